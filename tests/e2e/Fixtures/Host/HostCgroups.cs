namespace Crisp.E2E.Fixtures;

/// <summary>
/// A container's cgroup files as this host names them: cgroup v1 (a directory per controller: cpu.cfs_quota_us,
/// cpu.shares, memory.limit_in_bytes) or v2 (one unified directory: cpu.max, cpu.weight, memory.max).
/// </summary>
public static class HostCgroups
{
    private const string Root = "/sys/fs/cgroup";

    /// <summary>A unified (v2) host has cgroup.controllers at the root; hybrid and legacy hosts keep cpu and memory on v1.</summary>
    public static bool IsV2 { get; } = File.Exists(Path.Combine(Root, "cgroup.controllers"));

    /// <summary>The CFS quota in microseconds per period; -1 when unlimited.</summary>
    public static long CpuQuota(string cgroupsPath) => IsV2
        ? ParseLimit(Read(cgroupsPath, "cpu", "cpu.max").Split(' ')[0])
        : long.Parse(Read(cgroupsPath, "cpu", "cpu.cfs_quota_us"));

    /// <summary>The CPU share as written: cpu.shares on v1, cpu.weight on v2.</summary>
    public static ulong CpuShareValue(string cgroupsPath) => ulong.Parse(IsV2 ? Read(cgroupsPath, "cpu", "cpu.weight") : Read(cgroupsPath, "cpu", "cpu.shares"));

    /// <summary>What <see cref="CpuShareValue"/> reads for CRI cpu_shares: itself on v1, runc's mapping onto [1, 10000] on v2.</summary>
    public static ulong ExpectedCpuShareValue(long shares) => IsV2 ? (ulong)(1 + ((Math.Clamp(shares, 2, 262144) - 2) * 9999) / 262142) : (ulong)shares;

    /// <summary>The memory limit in bytes; -1 when unlimited.</summary>
    public static long MemoryLimit(string cgroupsPath) => IsV2
        ? ParseLimit(Read(cgroupsPath, "memory", "memory.max"))
        : UnlimitedV1(long.Parse(Read(cgroupsPath, "memory", "memory.limit_in_bytes")));

    /// <summary>True when the kernel accounts this cgroup's swap: memory.swap.current on v2, memory.memsw.* on v1.</summary>
    public static bool HasSwapAccounting(string cgroupsPath) =>
        File.Exists(Path.Combine(DirectoryOf(cgroupsPath, "memory"), IsV2 ? "memory.swap.current" : "memory.memsw.usage_in_bytes"));

    /// <summary>
    /// Where containers' pressure (PSI) files are: the unified tree itself, or a hybrid host's cgroup2 mount; null on a
    /// v1-only host or a kernel without PSI.
    /// </summary>
    public static string? PressureRoot { get; } =
        new[] { Root, Path.Combine(Root, "unified") }.FirstOrDefault(r => File.Exists(Path.Combine(r, "cgroup.controllers")) && File.Exists(Path.Combine(r, "cpu.pressure")));

    /// <summary>The directory holding <paramref name="controller"/>'s files for <paramref name="cgroupsPath"/>.</summary>
    public static string DirectoryOf(string cgroupsPath, string controller)
    {
        var relative = cgroupsPath.TrimStart('/');
        return IsV2 ? Path.Combine(Root, relative) : Path.Combine(Root, controller, relative);
    }

    private static string Read(string cgroupsPath, string controller, string file) =>
        File.ReadAllText(Path.Combine(DirectoryOf(cgroupsPath, controller), file)).Trim();

    /// <summary>An unlimited v1 memory cgroup reads as LONG_MAX rounded down to a page.</summary>
    private static long UnlimitedV1(long value) => value >= 1L << 62 ? -1 : value;

    private static long ParseLimit(string value) => value == "max" ? -1 : long.Parse(value);
}
