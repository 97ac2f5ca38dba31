using Crisp.Interop.Procfs;

namespace Crisp.Runtime.Cgroups;

/// <summary>Where each v1 controller's hierarchy is mounted, read from /proc/self/mountinfo (co-mounts like cpu,cpuacct included).</summary>
internal static class CgroupV1Mounts
{
    /// <summary>
    /// Controllers by name plus every cgroup mount root (named hierarchies like name=systemd and, on hybrid hosts,
    /// the cgroup2 mount), because runc creates the container's directory in all of them and removal must too.
    /// </summary>
    public static (IReadOnlyDictionary<string, string> Controllers, IReadOnlyList<string> AllRoots) ReadAll() =>
        FromMounts(MountTable.ReadSelf().Mounts);

    internal static (IReadOnlyDictionary<string, string> Controllers, IReadOnlyList<string> AllRoots) FromMounts(IEnumerable<MountInfoEntry> mounts)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var roots = new List<string>();
        foreach (var mount in mounts)
        {
            if (mount.FilesystemType is not ("cgroup" or "cgroup2")) continue;
            if (!roots.Contains(mount.MountPoint)) roots.Add(mount.MountPoint);
            if (mount.FilesystemType == "cgroup2") continue;
            foreach (var opt in mount.SuperOptions)
            {
                if (opt.StartsWith("name=", StringComparison.Ordinal)) continue;
                if (IsController(opt)) result.TryAdd(opt, mount.MountPoint);
            }
        }
        return (result, roots);
    }

    private static bool IsController(string opt) => opt is "cpu" or "cpuacct" or "cpuset" or "memory" or "pids" or "blkio"
        or "devices" or "freezer" or "hugetlb" or "net_cls" or "net_prio" or "perf_event" or "rdma" or "misc";
}
