namespace Crisp.E2E.Fixtures;

/// <summary>
/// The kubelet's part for tests and the bench: removes a pod cgroup parent from every mounted hierarchy once nothing
/// runs in it (crisp leaves the cgroup_parent it is given alone).
/// </summary>
public static class CgroupCleanup
{
    /// <summary>rmdir of <paramref name="relativePath"/> (e.g. "/crisp-bench") and everything below it, deepest first.</summary>
    /// <returns>The cgroup directories that could not be removed (still populated).</returns>
    public static IReadOnlyList<string> RemoveTree(string relativePath)
    {
        var left = new List<string>();
        foreach (var mountpoint in CgroupMountpoints())
        {
            var top = Path.Combine(mountpoint, relativePath.TrimStart('/'));
            if (!Directory.Exists(top)) continue;
            var directories = Directory.EnumerateDirectories(top, "*", SearchOption.AllDirectories)
                .OrderByDescending(d => d.Length).Append(top);
            foreach (var directory in directories)
            {
                try
                {
                    // A cgroup directory is removed with rmdir even though it lists control files.
                    Directory.Delete(directory, recursive: false);
                }
                catch (IOException)
                {
                    left.Add(directory);
                }
            }
        }
        return left;
    }

    /// <summary>
    /// Cgroup directories below the pod cgroups (those directly under <paramref name="relativePath"/> whose name starts
    /// with <paramref name="podPrefix"/>), in any hierarchy: the containers' cgroups, which crisp must remove with
    /// its pods (the pod cgroups themselves are the kubelet's, here the caller's).
    /// </summary>
    public static IReadOnlyList<string> FindBelowPods(string relativePath, string podPrefix) =>
        CgroupMountpoints()
            .Select(mountpoint => Path.Combine(mountpoint, relativePath.TrimStart('/')))
            .Where(Directory.Exists)
            .SelectMany(top => Directory.EnumerateDirectories(top, podPrefix + "*"))
            .SelectMany(Directory.EnumerateDirectories)
            .ToList();

    /// <summary>True when the cgroup exists in any mounted hierarchy (v1 controllers, named ones, cgroup2).</summary>
    public static bool ExistsAnywhere(string relativePath) =>
        CgroupMountpoints().Any(mountpoint => Directory.Exists(Path.Combine(mountpoint, relativePath.TrimStart('/'))));

    private static IEnumerable<string> CgroupMountpoints() =>
        File.ReadLines("/proc/self/mountinfo")
            .Select(line => line.Split(" - ", 2))
            .Where(parts => parts.Length == 2 && parts[1].Split(' ')[0] is "cgroup" or "cgroup2")
            .Select(parts => parts[0].Split(' ')[4])
            .Distinct(StringComparer.Ordinal);
}
