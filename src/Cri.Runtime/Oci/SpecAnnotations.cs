namespace Crisp.Runtime.Oci;

/// <summary>
/// The annotation keys containerd's CRI plugin writes into config.json (tools and OCI hooks read them), and which of
/// the kubelet's container annotations may join them.
/// </summary>
public static class SpecAnnotations
{
    public const string ContainerType = "io.kubernetes.cri.container-type";
    public const string ContainerTypeContainer = "container";
    public const string ContainerTypeSandbox = "sandbox";
    public const string SandboxId = "io.kubernetes.cri.sandbox-id";
    public const string SandboxName = "io.kubernetes.cri.sandbox-name";
    public const string SandboxNamespace = "io.kubernetes.cri.sandbox-namespace";
    public const string SandboxUid = "io.kubernetes.cri.sandbox-uid";
    public const string ContainerName = "io.kubernetes.cri.container-name";
    public const string ImageName = "io.kubernetes.cri.image-name";
    public const string ContainerId = "io.crisp.container-id";

    /// <summary>
    /// Prefixes OCI runtimes read as instructions rather than as data: crun's `run.oci.*` (e.g. keep the caller's
    /// groups, pick a handler) and the systemd cgroup driver's `org.systemd.property.*` (arbitrary unit properties).
    /// Anyone who can create a pod controls annotations, so these reach the spec only when the operator allows them.
    /// </summary>
    public static readonly IReadOnlyList<string> InterpretedPrefixes = ["run.oci.", "org.systemd.property."];

    /// <summary>Keys crisp writes itself; tools, hooks and recovery trust them, so no client may supply them.</summary>
    public static readonly IReadOnlyList<string> ReservedPrefixes = ["io.kubernetes.cri.", "io.crisp."];

    /// <summary>
    /// The client's annotations that may enter config.json: every ordinary annotation (as containerd and CRI-O pass
    /// them), except crisp's reserved keys and those with an interpreted prefix that no entry of
    /// <paramref name="allowedPrefixes"/> (runtime.allowed_annotations) covers. Each dropped key is reported with why.
    /// </summary>
    public static Dictionary<string, string> Admit(
        IReadOnlyDictionary<string, string> requested, IReadOnlyList<string> allowedPrefixes, List<string> dropped)
    {
        var admitted = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in requested)
        {
            if (StartsWithAny(key, ReservedPrefixes))
                dropped.Add($"annotation \"{key}\": reserved for crisp itself");
            else if (StartsWithAny(key, InterpretedPrefixes) && !StartsWithAny(key, allowedPrefixes))
                dropped.Add($"annotation \"{key}\": the OCI runtime interprets it and runtime.allowed_annotations does not allow it");
            else
                admitted[key] = value;
        }
        return admitted;
    }

    private static bool StartsWithAny(string key, IReadOnlyList<string> prefixes)
    {
        foreach (var prefix in prefixes)
        {
            if (prefix.Length > 0 && key.StartsWith(prefix, StringComparison.Ordinal)) return true;
        }
        return false;
    }
}
