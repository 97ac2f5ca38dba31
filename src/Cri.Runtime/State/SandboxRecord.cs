using System.Text.Json.Serialization;
using Crisp.Cri.V1;

namespace Crisp.Runtime.State;

/// <summary>Lifecycle of a pod sandbox as persisted; Creating/Removing mark half-done work recovery must finish.</summary>
public enum SandboxPhase
{
    Creating,
    Ready,
    NotReady,
    Removing,
}

/// <summary>One pod sandbox as the state store keeps it. Mutated only under the sandbox's lock.</summary>
public sealed class SandboxRecord
{
    public required string Id { get; init; }
    /// <summary>The RunPodSandbox config, kept as protobuf so nothing the kubelet sent is lost.</summary>
    [JsonConverter(typeof(ProtobufJsonConverter<PodSandboxConfig>))]
    public required PodSandboxConfig Config { get; init; }
    public required string RuntimeHandler { get; init; }
    public required long CreatedAtNanos { get; init; }
    [JsonConverter(typeof(NamedEnumConverter<SandboxPhase>))]
    public SandboxPhase Phase { get; set; }
    /// <summary>The pod cgroup (cgroupfs path or systemd slice) containers are placed under.</summary>
    public string CgroupParent { get; set; } = "";
    public string? NetworkNamespacePath { get; set; }
    public string? IpcNamespacePath { get; set; }
    public string? UtsNamespacePath { get; set; }
    public string? PidNamespacePath { get; set; }
    /// <summary>The pod's pinned user namespace (userns_options mode POD); null: the host's.</summary>
    public string? UserNamespacePath { get; set; }
    /// <summary>Persistent per-pod directory: hostname, hosts, resolv.conf.</summary>
    public required string Directory { get; init; }
    /// <summary>Volatile per-pod directory (tmpfs): shm mount point.</summary>
    public required string StateDirectory { get; init; }
    public string HostnamePath { get; set; } = "";
    public string HostsPath { get; set; } = "";
    public string ResolvConfPath { get; set; } = "";
    public string ShmPath { get; set; } = "";
    /// <summary>True when ShmPath is a tmpfs crisp mounted (and must unmount).</summary>
    public bool ShmMounted { get; set; }
    public string PodIp { get; set; } = "";
    /// <summary>
    /// The pod's SELinux MCS level ("" without SELinux). Recorded before any effect, so it survives a restart and
    /// stays reserved for as long as the record exists (see <see cref="Lsm.SelinuxLabels"/>).
    /// </summary>
    public string SelinuxLevel { get; set; } = "";
    public List<string> AdditionalIps { get; set; } = [];

    [JsonIgnore]
    public PodSandboxMetadata Metadata => Config.Metadata;
    [JsonIgnore]
    public NamespaceOption NamespaceOptions => Config.Linux?.SecurityContext?.NamespaceOptions ?? new NamespaceOption();
    /// <summary>The pod's user namespace mappings (mode POD), already validated at RunPodSandbox; null: the host's.</summary>
    [JsonIgnore]
    public Namespaces.UserNamespaceMappings? UserNamespaceMappings => Namespaces.UserNamespaceMappings.FromPod(NamespaceOptions.UsernsOptions);
    [JsonIgnore]
    public bool HostNetwork => NamespaceOptions.Network == NamespaceMode.Node;

    /// <summary>
    /// True when crisp made up the pod cgroup because no cgroup_parent was sent (crictl); the kubelet's own pod cgroup
    /// is the kubelet's to size and remove, and may hold a later sandbox of the same pod.
    /// </summary>
    [JsonIgnore]
    public bool OwnsPodCgroup => string.IsNullOrWhiteSpace(Config.Linux?.CgroupParent);

    /// <summary>The name the kubelet reserves: two sandboxes with the same key may not coexist.</summary>
    [JsonIgnore]
    public string NameKey => SandboxNameKey(Config.Metadata);

    public static string SandboxNameKey(PodSandboxMetadata m) => $"{m.Name}_{m.Namespace}_{m.Uid}_{m.Attempt}";
}
