using Crisp.Interop.Procfs;

namespace Crisp.Runtime.Host;

/// <summary>Where host facts are read from; tests point these at fixtures.</summary>
internal sealed record HostPaths(
    string ProcSelfStatus,
    string ProcSelfOomScoreAdj,
    string ProcSysKernelSeccomp,
    string CgroupRoot)
{
    public static readonly HostPaths Default = new(
        ProcFile.SelfStatus,
        "/proc/self/oom_score_adj",
        "/proc/sys/kernel/seccomp",
        "/sys/fs/cgroup");
}
