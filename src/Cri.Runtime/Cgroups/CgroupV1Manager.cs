using System.Globalization;
using Crisp.Cri.V1;
using Crisp.Runtime.Api;

namespace Crisp.Runtime.Cgroups;

/// <summary>cgroup v1: one directory per controller hierarchy (legacy and hybrid hosts).</summary>
internal sealed class CgroupV1Manager : CgroupManagerBase
{
    /// <summary>The controllers a pod cgroup is created in, as runc's cgroupfs manager does for containers.</summary>
    private static readonly string[] PodControllers = ["cpu", "cpuacct", "cpuset", "memory", "pids", "blkio", "devices", "freezer", "hugetlb"];

    private readonly IReadOnlyDictionary<string, string> _mounts;
    private readonly IReadOnlyList<string> _allRoots;

    public CgroupV1Manager(CgroupNaming naming) : base(naming)
    {
        (_mounts, _allRoots) = CgroupV1Mounts.ReadAll();
    }

    public override bool IsV2 => false;

    private string? Dir(string controller, string cgroupsPath) =>
        _mounts.TryGetValue(controller, out var root) ? Under(root, FilesystemPath(cgroupsPath)) : null;

    public override async Task EnsurePodCgroupAsync(string podCgroupParent, LinuxContainerResources? resources, CancellationToken ct)
    {
        var relative = FilesystemPath(podCgroupParent);
        foreach (var controller in PodControllers)
        {
            if (!_mounts.TryGetValue(controller, out var root)) continue;
            if (controller == "cpuset") await EnsureCpusetAsync(root, relative, ct).ConfigureAwait(false);
            else CreateLevels(root, relative);
        }
        if (resources is not null) await ApplyResourcesAsync(podCgroupParent, resources, ct).ConfigureAwait(false);
    }

    private static void CreateLevels(string root, string relative)
    {
        var current = root;
        foreach (var part in relative.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            current = Under(current, part);
            CreateCgroupDirectory(current);
        }
    }

    /// <summary>A new cpuset cgroup starts with empty cpus/mems and refuses tasks until they are copied from its parent.</summary>
    private static async Task EnsureCpusetAsync(string root, string relative, CancellationToken ct)
    {
        var current = root;
        foreach (var part in relative.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var parent = current;
            current = Path.Combine(current, part);
            CreateCgroupDirectory(current);
            foreach (var file in new[] { "cpuset.cpus", "cpuset.mems" })
            {
                var mine = (await CgroupFiles.ReadAsync(current, file, ct).ConfigureAwait(false))?.Trim();
                if (!string.IsNullOrEmpty(mine)) continue;
                var inherited = (await CgroupFiles.ReadAsync(parent, file, ct).ConfigureAwait(false))?.Trim();
                if (!string.IsNullOrEmpty(inherited)) await CgroupFiles.WriteAsync(current, file, inherited, ct).ConfigureAwait(false);
            }
        }
    }

    public override async Task ApplyResourcesAsync(string cgroupsPath, LinuxContainerResources resources, CancellationToken ct)
    {
        static string S(long v) => v.ToString(CultureInfo.InvariantCulture);

        if (Dir("cpu", cgroupsPath) is { } cpu && Directory.Exists(cpu))
        {
            if (resources.CpuShares > 0) await CgroupFiles.WriteAsync(cpu, "cpu.shares", S(resources.CpuShares), ct).ConfigureAwait(false);
            if (resources.CpuPeriod > 0) await CgroupFiles.WriteAsync(cpu, "cpu.cfs_period_us", S(resources.CpuPeriod), ct).ConfigureAwait(false);
            if (resources.CpuQuota != 0) await CgroupFiles.WriteAsync(cpu, "cpu.cfs_quota_us", S(resources.CpuQuota), ct).ConfigureAwait(false);
        }
        if (Dir("cpuset", cgroupsPath) is { } cpuset && Directory.Exists(cpuset))
        {
            if (!string.IsNullOrEmpty(resources.CpusetCpus)) await CgroupFiles.WriteAsync(cpuset, "cpuset.cpus", resources.CpusetCpus, ct).ConfigureAwait(false);
            if (!string.IsNullOrEmpty(resources.CpusetMems)) await CgroupFiles.WriteAsync(cpuset, "cpuset.mems", resources.CpusetMems, ct).ConfigureAwait(false);
        }
        if (Dir("memory", cgroupsPath) is { } memory && Directory.Exists(memory))
            await ApplyMemoryAsync(memory, resources.MemoryLimitInBytes, resources.MemorySwapLimitInBytes, ct).ConfigureAwait(false);
        if (Dir("hugetlb", cgroupsPath) is { } hugetlb && Directory.Exists(hugetlb))
        {
            foreach (var h in resources.HugepageLimits)
                await CgroupFiles.WriteAsync(hugetlb, $"hugetlb.{ResourceConversions.HugepageFileSize(h.PageSize)}.limit_in_bytes", h.Limit.ToString(CultureInfo.InvariantCulture), ct).ConfigureAwait(false);
        }
        if (resources.Unified.Count > 0)
            throw RuntimeException.InvalidField("linux.resources.unified", "needs cgroup v2; this host uses cgroup v1");
    }

    /// <summary>memory.memsw.limit_in_bytes must stay ≥ memory.limit_in_bytes, so the order of the two writes depends on direction.</summary>
    private static async Task ApplyMemoryAsync(string dir, long limit, long swapLimit, CancellationToken ct)
    {
        var hasSwapFile = File.Exists(Path.Combine(dir, "memory.memsw.limit_in_bytes"));
        var writeSwap = swapLimit != 0 && hasSwapFile;
        if (limit <= 0 && !writeSwap) return;
        var current = await CgroupFiles.ReadULongAsync(dir, "memory.limit_in_bytes", ct).ConfigureAwait(false) ?? ulong.MaxValue;
        var growing = limit > 0 && (ulong)limit > current;
        if (writeSwap && growing)
            await CgroupFiles.WriteAsync(dir, "memory.memsw.limit_in_bytes", swapLimit.ToString(CultureInfo.InvariantCulture), ct).ConfigureAwait(false);
        if (limit > 0)
            await CgroupFiles.WriteAsync(dir, "memory.limit_in_bytes", limit.ToString(CultureInfo.InvariantCulture), ct).ConfigureAwait(false);
        if (writeSwap && !growing)
            await CgroupFiles.WriteAsync(dir, "memory.memsw.limit_in_bytes", swapLimit.ToString(CultureInfo.InvariantCulture), ct).ConfigureAwait(false);
    }

    public override async Task<CgroupStats?> ReadStatsAsync(string cgroupsPath, CancellationToken ct)
    {
        var memory = Dir("memory", cgroupsPath);
        if (memory is null || !Directory.Exists(memory)) return null;

        var cpuNanos = Dir("cpuacct", cgroupsPath) is { } cpuacct
            ? await CgroupFiles.ReadULongAsync(cpuacct, "cpuacct.usage", ct).ConfigureAwait(false) ?? 0
            : 0;
        var usage = await CgroupFiles.ReadULongAsync(memory, "memory.usage_in_bytes", ct).ConfigureAwait(false) ?? 0;
        var limit = await CgroupFiles.ReadULongAsync(memory, "memory.limit_in_bytes", ct).ConfigureAwait(false) ?? 0;
        var stat = await CgroupFiles.ReadKeyValuesAsync(memory, "memory.stat", ct).ConfigureAwait(false);
        var oom = await CgroupFiles.ReadKeyValuesAsync(memory, "memory.oom_control", ct).ConfigureAwait(false);
        var workingSet = CgroupFiles.Sub(usage, stat.GetValueOrDefault("total_inactive_file"));
        // An unlimited v1 cgroup reports a page-rounded LONG_MAX; "available" is meaningless then.
        var available = limit > 0 && limit < (1UL << 62) ? CgroupFiles.Sub(limit, workingSet) : 0;
        var pids = Dir("pids", cgroupsPath) is { } p
            ? await CgroupFiles.ReadULongAsync(p, "pids.current", ct).ConfigureAwait(false) ?? 0
            : 0;

        return new CgroupStats(
            DateTimeOffset.UtcNow,
            cpuNanos,
            usage,
            workingSet,
            stat.GetValueOrDefault("total_rss"),
            available,
            stat.GetValueOrDefault("total_pgfault"),
            stat.GetValueOrDefault("total_pgmajfault"),
            pids,
            oom.GetValueOrDefault("oom_kill") > 0);
    }

    public override async Task RemoveAsync(string cgroupsPath, CancellationToken ct)
    {
        var relative = FilesystemPath(cgroupsPath);
        if (relative.Trim('/').Length == 0) return;
        foreach (var root in _allRoots)
            await CgroupFiles.RemoveTreeAsync(Under(root, relative), ct).ConfigureAwait(false);
    }
}
