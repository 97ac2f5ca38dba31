using System.Globalization;
using Crisp.Cri.V1;
using Crisp.Runtime.Api;

namespace Crisp.Runtime.Cgroups;

/// <summary>cgroup v2: one unified tree; controllers must be enabled in each parent's cgroup.subtree_control.</summary>
internal sealed class CgroupV2Manager(CgroupNaming naming, string root = "/sys/fs/cgroup") : CgroupManagerBase(naming)
{
    public override bool IsV2 => true;

    private string Dir(string cgroupsPath) => Under(root, FilesystemPath(cgroupsPath));

    public override async Task EnsurePodCgroupAsync(string podCgroupParent, LinuxContainerResources? resources, CancellationToken ct)
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
        if (resources is not null) await ApplyResourcesAsync(podCgroupParent, resources, ct).ConfigureAwait(false);
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

    public override async Task ApplyResourcesAsync(string cgroupsPath, LinuxContainerResources resources, CancellationToken ct)
    {
        static string S(long v) => v.ToString(CultureInfo.InvariantCulture);
        var dir = Dir(cgroupsPath);
        if (!Directory.Exists(dir))
            throw new RuntimeException(RuntimeErrorKind.NotFound, $"cgroup {cgroupsPath} does not exist");

        if (resources.CpuShares > 0)
            await CgroupFiles.WriteAsync(dir, "cpu.weight", ResourceConversions.SharesToWeight(resources.CpuShares).ToString(CultureInfo.InvariantCulture), ct).ConfigureAwait(false);
        if (resources.CpuQuota != 0 || resources.CpuPeriod > 0)
            await CgroupFiles.WriteAsync(dir, "cpu.max", ResourceConversions.CpuMax(resources.CpuQuota, resources.CpuPeriod), ct).ConfigureAwait(false);
        if (!string.IsNullOrEmpty(resources.CpusetCpus)) await CgroupFiles.WriteAsync(dir, "cpuset.cpus", resources.CpusetCpus, ct).ConfigureAwait(false);
        if (!string.IsNullOrEmpty(resources.CpusetMems)) await CgroupFiles.WriteAsync(dir, "cpuset.mems", resources.CpusetMems, ct).ConfigureAwait(false);
        if (resources.MemoryLimitInBytes > 0)
            await CgroupFiles.WriteAsync(dir, "memory.max", S(resources.MemoryLimitInBytes), ct).ConfigureAwait(false);
        if (resources.MemorySwapLimitInBytes != 0 && File.Exists(Path.Combine(dir, "memory.swap.max")))
        {
            // CRI's swap limit is memory+swap (v1 semantics); v2's memory.swap.max counts swap alone.
            var swap = resources.MemorySwapLimitInBytes < 0 ? "max"
                : S(Math.Max(0, resources.MemorySwapLimitInBytes - Math.Max(0, resources.MemoryLimitInBytes)));
            await CgroupFiles.WriteAsync(dir, "memory.swap.max", swap, ct).ConfigureAwait(false);
        }
        foreach (var h in resources.HugepageLimits)
            await CgroupFiles.WriteAsync(dir, $"hugetlb.{ResourceConversions.HugepageFileSize(h.PageSize)}.max", h.Limit.ToString(CultureInfo.InvariantCulture), ct).ConfigureAwait(false);
        foreach (var (key, value) in resources.Unified)
        {
            if (key.Contains('/') || key.Contains("..", StringComparison.Ordinal))
                throw RuntimeException.InvalidField("linux.resources.unified", $"key \"{key}\" is not a cgroup file name");
            await CgroupFiles.WriteAsync(dir, key, value, ct).ConfigureAwait(false);
        }
    }

    public override async Task<CgroupStats?> ReadStatsAsync(string cgroupsPath, CancellationToken ct)
    {
        var dir = Dir(cgroupsPath);
        if (!Directory.Exists(dir)) return null;
        var cpu = await CgroupFiles.ReadKeyValuesAsync(dir, "cpu.stat", ct).ConfigureAwait(false);
        var current = await CgroupFiles.ReadULongAsync(dir, "memory.current", ct).ConfigureAwait(false) ?? 0;
        var stat = await CgroupFiles.ReadKeyValuesAsync(dir, "memory.stat", ct).ConfigureAwait(false);
        var events = await CgroupFiles.ReadKeyValuesAsync(dir, "memory.events", ct).ConfigureAwait(false);
        var max = await CgroupFiles.ReadULongAsync(dir, "memory.max", ct).ConfigureAwait(false); // "max" parses as null
        var workingSet = CgroupFiles.Sub(current, stat.GetValueOrDefault("inactive_file"));
        var pids = await CgroupFiles.ReadULongAsync(dir, "pids.current", ct).ConfigureAwait(false) ?? 0;
        return new CgroupStats(
            DateTimeOffset.UtcNow,
            cpu.GetValueOrDefault("usage_usec") * 1000,
            current,
            workingSet,
            stat.GetValueOrDefault("anon"),
            max is { } m ? CgroupFiles.Sub(m, workingSet) : 0,
            stat.GetValueOrDefault("pgfault"),
            stat.GetValueOrDefault("pgmajfault"),
            pids,
            events.GetValueOrDefault("oom_kill") > 0);
    }

    public override Task RemoveAsync(string cgroupsPath, CancellationToken ct)
    {
        var relative = FilesystemPath(cgroupsPath);
        return relative.Trim('/').Length == 0 ? Task.CompletedTask : CgroupFiles.RemoveTreeAsync(Under(root, relative), ct);
    }
}
