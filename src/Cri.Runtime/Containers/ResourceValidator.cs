using Crisp.Cri.V1;
using Crisp.Runtime.Api;

namespace Crisp.Runtime.Containers;

/// <summary>Refuses resource values no kernel accepts, naming the field, before they reach runc.</summary>
public static class ResourceValidator
{
    // Kernel bounds: cpu.shares 2..262144, cfs period 1ms..1s, quota >= 1ms.
    public static void Validate(LinuxContainerResources r, string field)
    {
        if (r.CpuShares < 0 || r.CpuShares > 262144)
            throw RuntimeException.InvalidField($"{field}.cpu_shares", $"{r.CpuShares} is outside 0..262144");
        if (r.CpuPeriod != 0 && (r.CpuPeriod < 1000 || r.CpuPeriod > 1_000_000))
            throw RuntimeException.InvalidField($"{field}.cpu_period", $"{r.CpuPeriod}us is outside 1000..1000000");
        if (r.CpuQuota != 0 && r.CpuQuota != -1 && r.CpuQuota < 1000)
            throw RuntimeException.InvalidField($"{field}.cpu_quota", $"{r.CpuQuota}us must be -1 (unlimited) or at least 1000");
        if (r.MemoryLimitInBytes < 0)
            throw RuntimeException.InvalidField($"{field}.memory_limit_in_bytes", $"{r.MemoryLimitInBytes} must not be negative");
        if (r.MemoryLimitInBytes is > 0 and < 4096 * 64)
            throw RuntimeException.InvalidField($"{field}.memory_limit_in_bytes", $"{r.MemoryLimitInBytes} is below the 256 KiB minimum");
        if (r.MemorySwapLimitInBytes < -1)
            throw RuntimeException.InvalidField($"{field}.memory_swap_limit_in_bytes", $"{r.MemorySwapLimitInBytes} must be -1 or a byte count");
        if (r.OomScoreAdj is < -1000 or > 1000)
            throw RuntimeException.InvalidField($"{field}.oom_score_adj", $"{r.OomScoreAdj} is outside -1000..1000");
    }
}
