using System.Globalization;
using Crisp.Interop.Procfs;
using Crisp.Runtime.Api;

namespace Crisp.Runtime.Host;

/// <summary>Detects, once at start, the host facts that decide how specs and cgroups are written.</summary>
public static class HostFeatureDetector
{
    private const int CapSysResourceBit = 24;

    public static HostFeatures Detect() => Detect(HostPaths.Default);

    internal static HostFeatures Detect(HostPaths paths)
    {
        var status = ProcFile.TryReadText(paths.ProcSelfStatus) ?? "";
        return new HostFeatures(
            CgroupV2: CgroupLayoutDetector.Detect(paths.CgroupRoot) == CgroupLayout.Unified,
            MinOomScoreAdj: DetectMinOomScoreAdj(status, paths.ProcSelfOomScoreAdj),
            SeccompEnabled: DetectSeccomp(status, paths.ProcSysKernelSeccomp));
    }

    /// <summary>
    /// Without CAP_SYS_RESOURCE nobody can lower oom_score_adj below its current value (runc's create then dies
    /// with "can't get final child's PID from pipe: EOF"), so the floor is what this process already has.
    /// </summary>
    internal static int DetectMinOomScoreAdj(string procStatus, string oomScoreAdjPath)
    {
        if (HasCapability(procStatus, "CapEff", CapSysResourceBit)) return -1000;
        var current = ProcFile.TryReadText(oomScoreAdjPath);
        return current is not null && int.TryParse(current.Trim(), CultureInfo.InvariantCulture, out var value) ? value : 0;
    }

    internal static bool HasCapability(string procStatus, string field, int bit) =>
        ProcessStatus.HexMask(procStatus, field) is { } mask && (mask & (1UL << bit)) != 0;

    private static bool DetectSeccomp(string procStatus, string procSysSeccompDir)
    {
        // The Seccomp field exists only on kernels built with CONFIG_SECCOMP; /proc/sys/kernel/seccomp only
        // with CONFIG_SECCOMP_FILTER, the mode runtimes use.
        return ProcessStatus.Field(procStatus, "Seccomp") is not null && Directory.Exists(procSysSeccompDir);
    }
}
