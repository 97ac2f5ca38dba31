namespace Crisp.Bench;

/// <summary>Removes the benchmark's cgroup parent from every mounted hierarchy once nothing runs in it.</summary>
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

    /// <summary>Cgroup directories directly under <paramref name="relativePath"/> whose name starts with <paramref name="prefix"/>, in any hierarchy.</summary>
    public static IReadOnlyList<string> Find(string relativePath, string prefix) =>
        CgroupMountpoints()
            .Select(mountpoint => Path.Combine(mountpoint, relativePath.TrimStart('/')))
            .Where(Directory.Exists)
            .SelectMany(top => Directory.EnumerateDirectories(top, prefix + "*"))
            .ToList();

    private static IEnumerable<string> CgroupMountpoints() =>
        File.ReadLines("/proc/self/mountinfo")
            .Select(line => line.Split(" - ", 2))
            .Where(parts => parts.Length == 2 && parts[1].Split(' ')[0] is "cgroup" or "cgroup2")
            .Select(parts => parts[0].Split(' ')[4])
            .Distinct(StringComparer.Ordinal);
}
