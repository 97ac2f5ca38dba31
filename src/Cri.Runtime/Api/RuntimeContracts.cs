using Crisp.Cri.V1;
using Crisp.ImageService.Api;

namespace Crisp.Runtime.Api;

// Contracts between the parts of Cri.Runtime that are built side by side:
// Oci/ (spec generation), Handlers/ + Monitor/ (runc/crun under conmon), Cgroups/, Sandboxes/Namespaces,
// and the lifecycle managers that orchestrate them. Each part owns its implementation folder.

/// <summary>Host facts the spec generator needs, detected once at start.</summary>
public sealed record HostFeatures(
    bool CgroupV2,
    /// <summary>Lowest oom_score_adj this process may set (its own current value when it lacks CAP_SYS_RESOURCE).</summary>
    int MinOomScoreAdj,
    bool SeccompEnabled);

/// <summary>
/// Paths of the pod-level namespaces a container joins; null means "not shared at pod level". <paramref name="UserPath"/>
/// is the pod's own user namespace (userns_options mode POD), null when the pod uses the host's.
/// </summary>
public sealed record SandboxNamespaces(string? NetworkPath, string? IpcPath, string? UtsPath, string? PidPath, string? UserPath = null);

/// <summary>Per-pod files bind-mounted into every container of the pod.</summary>
public sealed record SandboxFiles(string HostnamePath, string HostsPath, string ResolvConfPath, string ShmPath);

/// <summary>Everything needed to write one container's OCI config.json.</summary>
public sealed record ContainerSpecContext(
    string ContainerId,
    ContainerConfig Config,
    PodSandboxConfig Sandbox,
    ImageRecord Image,
    /// <summary>The mounted rootfs (overlay of the image's layers plus the container's upper dir).</summary>
    string RootfsPath,
    SandboxNamespaces Namespaces,
    /// <summary>Runtime cgroupsPath: "/kubepods/pod.../&lt;id&gt;" for cgroupfs, "slice:prefix:name" for systemd.</summary>
    string CgroupsPath,
    SandboxFiles Files,
    HostFeatures Host);

/// <summary>The user a container's process runs as, reported back in ContainerStatus.user.</summary>
public sealed record ResolvedUser(long Uid, long Gid, IReadOnlyList<long> AdditionalGids, string? Username);

/// <summary>
/// Raw exec result: exit code and captured output, stdout and stderr together held to the caller's budget;
/// <paramref name="DroppedOutputBytes"/> were read past it and dropped (each truncated stream says so at its end).
/// </summary>
public sealed record ExecResult(int ExitCode, byte[] Stdout, byte[] Stderr, bool TimedOut, long DroppedOutputBytes = 0);

/// <summary>Cgroup usage sample for stats RPCs.</summary>
public sealed record CgroupStats(
    DateTimeOffset Timestamp,
    ulong CpuUsageCoreNanoSeconds,
    ulong MemoryUsageBytes,
    ulong MemoryWorkingSetBytes,
    ulong MemoryRssBytes,
    ulong MemoryAvailableBytes,
    ulong PageFaults,
    ulong MajorPageFaults,
    ulong ProcessCount,
    bool OomKilled);
