namespace Crisp.Runtime.Host;

/// <summary>How the cgroup hierarchies are mounted on this host.</summary>
public enum CgroupLayout
{
    /// <summary>Only cgroup2 at /sys/fs/cgroup.</summary>
    Unified,
    /// <summary>v1 controllers at /sys/fs/cgroup/&lt;controller&gt; and cgroup2 at /sys/fs/cgroup/unified.</summary>
    Hybrid,
    /// <summary>v1 controllers only.</summary>
    Legacy,
}

public static class CgroupLayoutDetector
{
    public static CgroupLayout Detect(string cgroupRoot = "/sys/fs/cgroup")
    {
        // cgroup.controllers exists only at the root of a cgroup2 mount.
        if (File.Exists(Path.Combine(cgroupRoot, "cgroup.controllers"))) return CgroupLayout.Unified;
        return File.Exists(Path.Combine(cgroupRoot, "unified", "cgroup.controllers"))
            ? CgroupLayout.Hybrid
            : CgroupLayout.Legacy;
    }

    /// <summary>The controllers enabled on the hybrid layout's cgroup2 mount (crun refuses any).</summary>
    public static IReadOnlyList<string> UnifiedControllers(string cgroupRoot = "/sys/fs/cgroup")
    {
        var path = Path.Combine(cgroupRoot, "unified", "cgroup.controllers");
        try
        {
            return File.ReadAllText(path).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        }
        catch (IOException) { return []; }
    }
}
