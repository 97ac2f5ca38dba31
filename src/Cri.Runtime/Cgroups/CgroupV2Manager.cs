using Crisp.Runtime.Api;

namespace Crisp.Runtime.Cgroups;

/// <summary>cgroup v2: one unified tree; controllers must be enabled in each parent's cgroup.subtree_control.</summary>
internal sealed class CgroupV2Manager(CgroupNaming naming, string root = "/sys/fs/cgroup") : CgroupManagerBase(naming)
{
    public override bool IsV2 => true;

    private string Dir(string cgroupsPath) => Under(root, FilesystemPath(cgroupsPath));

    public override async Task EnsurePodCgroupAsync(string podCgroupParent, CancellationToken ct)
    {
        var current = root;
        foreach (var part in FilesystemPath(podCgroupParent).Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            await EnableControllersAsync(current, ct).ConfigureAwait(false);
            current = Path.Combine(current, part);
            CreateCgroupDirectory(current);
        }
        // Containers are created below the pod cgroup, so it delegates its controllers too.
        await EnableControllersAsync(current, ct).ConfigureAwait(false);
    }

    private static async Task EnableControllersAsync(string dir, CancellationToken ct)
    {
        var available = (await CgroupFiles.ReadAsync(dir, "cgroup.controllers", ct).ConfigureAwait(false) ?? "")
            .Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var enabled = (await CgroupFiles.ReadAsync(dir, "cgroup.subtree_control", ct).ConfigureAwait(false) ?? "")
            .Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var missing = available.Except(enabled, StringComparer.Ordinal).ToList();
        if (missing.Count == 0) return;
        try
        {
            await CgroupFiles.WriteAsync(dir, "cgroup.subtree_control", string.Join(' ', missing.Select(c => "+" + c)), ct).ConfigureAwait(false);
        }
        catch (RuntimeException)
        {
            // A controller may be refused (e.g. cpu with realtime tasks); enable what can be enabled one by one.
            foreach (var c in missing)
            {
                try { await CgroupFiles.WriteAsync(dir, "cgroup.subtree_control", "+" + c, ct).ConfigureAwait(false); }
                catch (RuntimeException) { }
            }
        }
    }

    public override async Task<bool> SawOomKillAsync(string cgroupsPath, CancellationToken ct)
    {
        var dir = Dir(cgroupsPath);
        if (!Directory.Exists(dir)) return false;
        var events = await CgroupFiles.ReadKeyValuesAsync(dir, "memory.events", ct).ConfigureAwait(false);
        return events.GetValueOrDefault("oom_kill") > 0;
    }

    public override async Task<CgroupStats?> ReadStatsAsync(string cgroupsPath, CancellationToken ct)
    {
        var dir = Dir(cgroupsPath);
        if (!Directory.Exists(dir)) return null;
        // usage_usec is the kernel's exact counter in microseconds.
        var cpu = await CgroupFiles.ReadKeyValuesAsync(dir, "cpu.stat", ct).ConfigureAwait(false);
        var sampledAt = DateTimeOffset.UtcNow;
        var current = await CgroupFiles.ReadULongAsync(dir, "memory.current", ct).ConfigureAwait(false) ?? 0;
        var stat = await CgroupFiles.ReadKeyValuesAsync(dir, "memory.stat", ct).ConfigureAwait(false);
        var events = await CgroupFiles.ReadKeyValuesAsync(dir, "memory.events", ct).ConfigureAwait(false);
        var max = CgroupStatParsers.Limit(await CgroupFiles.ReadAsync(dir, "memory.max", ct).ConfigureAwait(false));
        var workingSet = CgroupFiles.Sub(current, stat.GetValueOrDefault("inactive_file"));
        var pids = await CgroupFiles.ReadULongAsync(dir, "pids.current", ct).ConfigureAwait(false) ?? 0;
        var (cpuPressure, memoryPressure, ioPressure) = await ReadPressureAsync(dir, ct).ConfigureAwait(false);
        return new CgroupStats(
            sampledAt,
            cpu.GetValueOrDefault("usage_usec") * 1000,
            current,
            workingSet,
            stat.GetValueOrDefault("anon"),
            max is { } m ? CgroupFiles.Sub(m, workingSet) : 0,
            stat.GetValueOrDefault("pgfault"),
            stat.GetValueOrDefault("pgmajfault"),
            pids,
            events.GetValueOrDefault("oom_kill") > 0)
        {
            Swap = await ReadSwapAsync(dir, ct).ConfigureAwait(false),
            Io = CgroupStatParsers.IoStat(await CgroupFiles.ReadAsync(dir, "io.stat", ct).ConfigureAwait(false)),
            CpuPressure = cpuPressure,
            MemoryPressure = memoryPressure,
            IoPressure = ioPressure,
        };
    }

    /// <summary>memory.swap.current and memory.swap.max count swap alone (present when the kernel accounts swap).</summary>
    private static async Task<CgroupSwap?> ReadSwapAsync(string dir, CancellationToken ct)
    {
        if (await CgroupFiles.ReadULongAsync(dir, "memory.swap.current", ct).ConfigureAwait(false) is not { } usage) return null;
        var limit = CgroupStatParsers.Limit(await CgroupFiles.ReadAsync(dir, "memory.swap.max", ct).ConfigureAwait(false));
        return SwapOf(usage, limit, HostSwapFree());
    }

    public override Task RemoveAsync(string cgroupsPath, CancellationToken ct)
    {
        var relative = FilesystemPath(cgroupsPath);
        return relative.Trim('/').Length == 0 ? Task.CompletedTask : CgroupFiles.RemoveTreeAsync(Under(root, relative), ct);
    }
}
