using Crisp.Interop.Procfs;

namespace Crisp.Runtime.Cgroups;

/// <summary>Where each v1 controller's hierarchy is mounted, read from /proc/self/mountinfo (co-mounts like cpu,cpuacct included).</summary>
internal static class CgroupV1Mounts
{
    /// <summary>
    /// Controllers by name plus every cgroup mount root (named hierarchies like name=systemd and, on hybrid hosts,
    /// the cgroup2 mount), because runc creates the container's directory in all of them and removal must too.
    /// The hybrid layout's cgroup2 mount is named on its own: runc places containers there as well, and it is where
    /// their pressure (PSI) files are.
    /// </summary>
    public static CgroupV1MountTable ReadAll() => FromMounts(MountTable.ReadSelf().Mounts);

    internal static CgroupV1MountTable FromMounts(IEnumerable<MountInfoEntry> mounts)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var roots = new List<string>();
        string? unified = null;
        foreach (var mount in mounts)
        {
            if (mount.FilesystemType is not ("cgroup" or "cgroup2")) continue;
            if (!roots.Contains(mount.MountPoint)) roots.Add(mount.MountPoint);
            if (mount.FilesystemType == "cgroup2")
            {
                unified ??= mount.MountPoint;
                continue;
            }
            foreach (var opt in mount.SuperOptions)
            {
                if (opt.StartsWith("name=", StringComparison.Ordinal)) continue;
                if (IsController(opt)) result.TryAdd(opt, mount.MountPoint);
            }
        }
        return new CgroupV1MountTable(result, roots, unified);
    }

    private static bool IsController(string opt) => opt is "cpu" or "cpuacct" or "cpuset" or "memory" or "pids" or "blkio"
        or "devices" or "freezer" or "hugetlb" or "net_cls" or "net_prio" or "perf_event" or "rdma" or "misc";
}

/// <summary>Where the v1 controllers, every cgroup hierarchy, and (hybrid hosts) the cgroup2 mount are.</summary>
internal sealed record CgroupV1MountTable(IReadOnlyDictionary<string, string> Controllers, IReadOnlyList<string> AllRoots, string? UnifiedRoot);
