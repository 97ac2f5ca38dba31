namespace Crisp.Runtime.Cgroups;

/// <summary>Where each v1 controller's hierarchy is mounted, read from /proc/self/mountinfo (co-mounts like cpu,cpuacct included).</summary>
internal static class CgroupV1Mounts
{
    public static IReadOnlyDictionary<string, string> Read(string mountInfoPath = "/proc/self/mountinfo") => ReadAll(mountInfoPath).Controllers;

    /// <summary>
    /// Controllers by name plus every cgroup mount root (named hierarchies like name=systemd and, on hybrid hosts,
    /// the cgroup2 mount), because runc creates the container's directory in all of them and removal must too.
    /// </summary>
    public static (IReadOnlyDictionary<string, string> Controllers, IReadOnlyList<string> AllRoots) ReadAll(string mountInfoPath = "/proc/self/mountinfo")
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var roots = new List<string>();
        foreach (var line in File.ReadLines(mountInfoPath))
        {
            // "<id> <parent> <maj:min> <root> <mountpoint> <opts> [optional...] - <fstype> <source> <superopts>"
            var sep = line.IndexOf(" - ", StringComparison.Ordinal);
            if (sep < 0) continue;
            var tail = line[(sep + 3)..].Split(' ');
            if (tail.Length < 3 || (tail[0] != "cgroup" && tail[0] != "cgroup2")) continue;
            var head = line[..sep].Split(' ');
            if (head.Length < 5) continue;
            var mountPoint = head[4].Replace("\\040", " ");
            if (!roots.Contains(mountPoint)) roots.Add(mountPoint);
            if (tail[0] == "cgroup2") continue;
            foreach (var opt in tail[2].Split(','))
            {
                if (opt.StartsWith("name=", StringComparison.Ordinal)) continue;
                if (IsController(opt)) result.TryAdd(opt, mountPoint);
            }
        }
        return (result, roots);
    }

    private static bool IsController(string opt) => opt is "cpu" or "cpuacct" or "cpuset" or "memory" or "pids" or "blkio"
        or "devices" or "freezer" or "hugetlb" or "net_cls" or "net_prio" or "perf_event" or "rdma" or "misc";
}
