using Crisp.Runtime.Api;

namespace Crisp.Runtime.Cgroups;

/// <summary>
/// systemd driver: pods live in slices ("kubepods-burstable-pod&lt;uid&gt;.slice", as the kubelet names them) and each
/// container in a scope runc asks systemd for (`runc --systemd-cgroup`, cgroupsPath "slice:crisp:&lt;id&gt;", unit
/// crisp-&lt;id&gt;.scope), whose cgroup is the expanded slice path plus the scope
/// (/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod&lt;uid&gt;.slice/crisp-&lt;id&gt;.scope): that is where
/// stats are read. Only naming and this mapping are crisp's; units are created by the runtime through systemd.
/// </summary>
internal sealed class SystemdNaming : CgroupNaming
{
    /// <summary>Scopes are "crisp-&lt;id&gt;.scope", as CRI-O's are "crio-&lt;id&gt;.scope".</summary>
    public const string ScopePrefix = "crisp";
    private const string ParentField = "linux.cgroup_parent";

    public override string Driver => "systemd";

    public override string PodCgroupParent(string kubeletCgroupParent, string podUid)
    {
        var parent = kubeletCgroupParent.Trim();
        if (parent.Length == 0)
        {
            // crictl and other direct clients send no parent; their pods go under crisp.slice.
            var own = $"{ScopePrefix}-pod{SystemdSlices.EscapeComponent(podUid)}{SystemdSlices.Suffix}";
            if (SystemdSlices.Invalid(own) is { } reason)
                throw RuntimeException.InvalidField("config.metadata.uid", $"makes no systemd slice name (\"{own}\": {reason})");
            return own;
        }
        if (!parent.Contains('/'))
        {
            SystemdSlices.Expand(parent, ParentField);
            return parent;
        }
        // Some clients send the slice's cgroup path instead of its name; accept it only when it is exactly that.
        var path = parent.Trim('/');
        var name = path[(path.LastIndexOf('/') + 1)..];
        var expected = name.Length == 0 ? "" : SystemdSlices.Expand(name, ParentField);
        if (!string.Equals(expected, "/" + path, StringComparison.Ordinal))
            throw RuntimeException.InvalidField(ParentField, $"\"{parent}\" is neither a systemd slice name nor the cgroup of one"
                + (name.Length == 0 ? "" : $" (the slice \"{name}\" lives at \"{expected}\")"));
        return name;
    }

    public override string ContainerCgroupsPath(string podCgroupParent, string containerId) =>
        $"{podCgroupParent}:{ScopePrefix}:{containerId}";

    public override string FilesystemPath(string cgroupsPath)
    {
        var parts = cgroupsPath.Split(':');
        if (parts.Length != 3) return SystemdSlices.Expand(cgroupsPath, ParentField);
        var (slice, prefix, name) = (parts[0], parts[1], parts[2]);
        // runc's rules: no slice means system.slice; a name that is itself a slice is used as is, else a scope.
        var parent = SystemdSlices.Expand(slice.Length == 0 ? SystemdSlices.DefaultSlice : slice, ParentField);
        var unit = name.EndsWith(SystemdSlices.Suffix, StringComparison.Ordinal) ? name : $"{prefix}-{name}.scope";
        return parent.TrimEnd('/') + "/" + unit;
    }
}
