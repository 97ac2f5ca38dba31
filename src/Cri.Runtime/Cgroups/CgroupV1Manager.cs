using Crisp.Runtime.Api;

namespace Crisp.Runtime.Cgroups;

/// <summary>cgroup v1: one directory per controller hierarchy (legacy and hybrid hosts).</summary>
internal sealed class CgroupV1Manager : CgroupManagerBase
{
    /// <summary>The controllers a pod cgroup is created in, as runc's cgroupfs manager does for containers.</summary>
    private static readonly string[] PodControllers = ["cpu", "cpuacct", "cpuset", "memory", "pids", "blkio", "devices", "freezer", "hugetlb"];

    /// <summary>blkio's per-cgroup byte counters: the proportional-weight scheduler's when it runs, else the throttle layer's.</summary>
    private static readonly string[] BlkioByteFiles = ["blkio.io_service_bytes_recursive", "blkio.throttle.io_service_bytes_recursive"];

    private readonly CgroupV1MountTable _mounts;

    public CgroupV1Manager(CgroupNaming naming) : this(naming, CgroupV1Mounts.ReadAll()) { }

    internal CgroupV1Manager(CgroupNaming naming, CgroupV1MountTable mounts) : base(naming)
    {
        _mounts = mounts;
    }

    public override bool IsV2 => false;

    private string? Dir(string controller, string cgroupsPath) =>
        _mounts.Controllers.TryGetValue(controller, out var root) ? Under(root, FilesystemPath(cgroupsPath)) : null;

    public override async Task EnsurePodCgroupAsync(string podCgroupParent, CancellationToken ct)
    {
        var relative = FilesystemPath(podCgroupParent);
        foreach (var controller in PodControllers)
        {
            if (!_mounts.Controllers.TryGetValue(controller, out var root)) continue;
            if (controller == "cpuset") await EnsureCpusetAsync(root, relative, ct).ConfigureAwait(false);
            else CreateLevels(root, relative);
        }
        // Hybrid hosts: runc puts containers in the cgroup2 tree too, and the pod's pressure files are there.
        if (_mounts.UnifiedRoot is { } unified) CreateLevels(unified, relative);
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

    public override async Task<bool> SawOomKillAsync(string cgroupsPath, CancellationToken ct)
    {
        if (Dir("memory", cgroupsPath) is not { } memory || !Directory.Exists(memory)) return false;
        var oom = await CgroupFiles.ReadKeyValuesAsync(memory, "memory.oom_control", ct).ConfigureAwait(false);
        return oom.GetValueOrDefault("oom_kill") > 0;
    }

    public override async Task<CgroupStats?> ReadStatsAsync(string cgroupsPath, CancellationToken ct)
    {
        var memory = Dir("memory", cgroupsPath);
        if (memory is null || !Directory.Exists(memory)) return null;

        // cpuacct.usage is in nanoseconds: the exact counter, no rounding.
        var cpuNanos = Dir("cpuacct", cgroupsPath) is { } cpuacct
            ? await CgroupFiles.ReadULongAsync(cpuacct, "cpuacct.usage", ct).ConfigureAwait(false) ?? 0
            : 0;
        var sampledAt = DateTimeOffset.UtcNow;
        var usage = await CgroupFiles.ReadULongAsync(memory, "memory.usage_in_bytes", ct).ConfigureAwait(false) ?? 0;
        var limit = await CgroupFiles.ReadULongAsync(memory, "memory.limit_in_bytes", ct).ConfigureAwait(false) ?? 0;
        var stat = await CgroupFiles.ReadKeyValuesAsync(memory, "memory.stat", ct).ConfigureAwait(false);
        var oom = await CgroupFiles.ReadKeyValuesAsync(memory, "memory.oom_control", ct).ConfigureAwait(false);
        var workingSet = CgroupFiles.Sub(usage, stat.GetValueOrDefault("total_inactive_file"));
        // An unlimited v1 cgroup reports a page-rounded LONG_MAX; "available" is meaningless then.
        var available = limit > 0 && !IsV1Unlimited(limit) ? CgroupFiles.Sub(limit, workingSet) : 0;
        var pids = Dir("pids", cgroupsPath) is { } p
            ? await CgroupFiles.ReadULongAsync(p, "pids.current", ct).ConfigureAwait(false) ?? 0
            : 0;
        var (cpuPressure, memoryPressure, ioPressure) = _mounts.UnifiedRoot is { } unified
            ? await ReadPressureAsync(Under(unified, FilesystemPath(cgroupsPath)), ct).ConfigureAwait(false)
            : default;

        return new CgroupStats(
            sampledAt,
            cpuNanos,
            usage,
            workingSet,
            stat.GetValueOrDefault("total_rss"),
            available,
            stat.GetValueOrDefault("total_pgfault"),
            stat.GetValueOrDefault("total_pgmajfault"),
            pids,
            oom.GetValueOrDefault("oom_kill") > 0)
        {
            Swap = await ReadSwapAsync(memory, usage, limit, ct).ConfigureAwait(false),
            Io = Dir("blkio", cgroupsPath) is { } blkio ? await ReadIoAsync(blkio, ct).ConfigureAwait(false) : null,
            CpuPressure = cpuPressure,
            MemoryPressure = memoryPressure,
            IoPressure = ioPressure,
        };
    }

    /// <summary>
    /// memsw counts memory plus swap (present only with swap accounting): swap used is memsw − memory, and the
    /// swap a limited cgroup may use is its memsw limit − its memory limit.
    /// </summary>
    private static async Task<CgroupSwap?> ReadSwapAsync(string memory, ulong usage, ulong limit, CancellationToken ct)
    {
        if (await CgroupFiles.ReadULongAsync(memory, "memory.memsw.usage_in_bytes", ct).ConfigureAwait(false) is not { } memsw) return null;
        var memswLimit = await CgroupFiles.ReadULongAsync(memory, "memory.memsw.limit_in_bytes", ct).ConfigureAwait(false);
        ulong? swapLimit = memswLimit is { } m && !IsV1Unlimited(m) ? CgroupFiles.Sub(m, IsV1Unlimited(limit) ? 0 : limit) : null;
        return SwapOf(CgroupFiles.Sub(memsw, usage), swapLimit, HostSwapFree());
    }

    private static async Task<CgroupIo?> ReadIoAsync(string blkio, CancellationToken ct)
    {
        CgroupIo? io = null;
        foreach (var file in BlkioByteFiles)
        {
            var text = await CgroupFiles.ReadAsync(blkio, file, ct).ConfigureAwait(false);
            io = CgroupStatParsers.BlkioServiceBytes(text);
            // The scheduler's file exists but stays empty ("Total 0") when the device does not use CFQ/BFQ.
            if (io is { ReadBytes: > 0 } or { WriteBytes: > 0 }) return io;
        }
        return io;
    }

    public override async Task RemoveAsync(string cgroupsPath, CancellationToken ct)
    {
        var relative = FilesystemPath(cgroupsPath);
        if (relative.Trim('/').Length == 0) return;
        foreach (var root in _mounts.AllRoots)
            await CgroupFiles.RemoveTreeAsync(Under(root, relative), ct).ConfigureAwait(false);
    }
}
