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

/// <summary>
/// Cgroup usage sample for stats RPCs. <paramref name="Timestamp"/> is when the CPU counter was read, so two samples
/// give a rate over the interval the counter really covered. The optional parts are null where the host's cgroup
/// has no such files (no swap accounting, no PSI, no blkio/io controller).
/// </summary>
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
    bool OomKilled)
{
    public CgroupSwap? Swap { get; init; }
    public CgroupIo? Io { get; init; }
    public CgroupPressure? CpuPressure { get; init; }
    public CgroupPressure? MemoryPressure { get; init; }
    public CgroupPressure? IoPressure { get; init; }
}

/// <summary>Swap the cgroup uses and what it may still use (its own swap limit or the host's free swap, the smaller).</summary>
public sealed record CgroupSwap(ulong UsageBytes, ulong AvailableBytes);

/// <summary>Bytes read from and written to block devices by the cgroup, summed over devices.</summary>
public sealed record CgroupIo(ulong ReadBytes, ulong WriteBytes);

/// <summary>One resource's pressure stall information (a cgroup v2 &lt;resource&gt;.pressure file).</summary>
public sealed record CgroupPressure(PressureLine? Some, PressureLine? Full);

/// <summary>A "some"/"full" line: stall percentages over 10/60/300 s and the total stall time in microseconds.</summary>
public sealed record PressureLine(double Avg10, double Avg60, double Avg300, ulong TotalMicroseconds);
