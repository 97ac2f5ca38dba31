using Crisp.Cri.V1;
using Crisp.Runtime.Api;

namespace Crisp.Runtime.Oci;

/// <summary>
/// CRI container resources as OCI cgroup settings, plus the oom_score_adj the host lets us set.
/// Also used by UpdateContainerResources (`runc update --resources` reads the same JSON).
/// </summary>
public static class SpecResources
{
    private const string Field = "config.linux.resources";

    public static OciResources Build(LinuxContainerResources? resources, HostFeatures host, List<OciDeviceCgroup>? deviceRules = null)
    {
        var result = new OciResources { Devices = deviceRules };
        if (resources is null) return result;

        var cpu = new OciCpu();
        if (resources.CpuShares > 0) cpu.Shares = (ulong)resources.CpuShares;
        if (resources.CpuQuota > 0) cpu.Quota = resources.CpuQuota;
        if (resources.CpuPeriod > 0) cpu.Period = (ulong)resources.CpuPeriod;
        if (!string.IsNullOrEmpty(resources.CpusetCpus)) cpu.Cpus = resources.CpusetCpus;
        if (!string.IsNullOrEmpty(resources.CpusetMems)) cpu.Mems = resources.CpusetMems;
        if (cpu.Shares is not null || cpu.Quota is not null || cpu.Period is not null || cpu.Cpus is not null || cpu.Mems is not null)
            result.Cpu = cpu;

        var memory = new OciMemory();
        if (resources.MemoryLimitInBytes > 0) memory.Limit = resources.MemoryLimitInBytes;
        if (resources.MemorySwapLimitInBytes != 0) memory.Swap = resources.MemorySwapLimitInBytes;
        if (memory.Limit is not null || memory.Swap is not null) result.Memory = memory;

        if (resources.HugepageLimits.Count > 0)
            result.HugepageLimits = resources.HugepageLimits
                .Select(h => new OciHugepageLimit { PageSize = h.PageSize, Limit = h.Limit }).ToList();

        if (resources.Unified.Count > 0)
        {
            if (!host.CgroupV2)
                throw RuntimeException.InvalidField($"{Field}.unified", "unified cgroup settings need cgroup v2, but this host uses cgroup v1");
            result.Unified = new Dictionary<string, string>(resources.Unified, StringComparer.Ordinal);
        }
        return result;
    }

    /// <summary>The requested score, raised to the lowest value this host lets crisp set (lowering needs CAP_SYS_RESOURCE).</summary>
    public static int OomScoreAdj(LinuxContainerResources? resources, HostFeatures host)
    {
        var requested = (int)Math.Clamp(resources?.OomScoreAdj ?? 0, -1000, 1000);
        return Math.Max(requested, host.MinOomScoreAdj);
    }

    /// <summary>The linux.resources object alone, as `runc update --resources FILE` expects.</summary>
    public static string ToJson(OciResources resources) =>
        System.Text.Json.JsonSerializer.Serialize(resources, OciJsonContext.Default.OciResources);
}
