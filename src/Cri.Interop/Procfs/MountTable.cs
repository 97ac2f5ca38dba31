namespace Crisp.Interop.Procfs;

/// <summary>
/// One reading of a mount table (by default this process's), for questions about paths: is it a mount point,
/// what is mounted below it, which mount holds it. Mounts change, so callers read a fresh table per decision.
/// Paths are compared after <see cref="Path.GetFullPath(string)"/> without a trailing separator.
/// </summary>
public sealed class MountTable
{
    private readonly Lazy<HashSet<string>> _mountPoints;

    private MountTable(IReadOnlyList<MountInfoEntry> mounts)
    {
        Mounts = mounts;
        _mountPoints = new(() => new HashSet<string>(mounts.Select(m => m.MountPoint), StringComparer.Ordinal));
    }

    /// <summary>Every mount, in the kernel's order.</summary>
    public IReadOnlyList<MountInfoEntry> Mounts { get; }

    /// <summary>This process's mount namespace, read now.</summary>
    public static MountTable ReadSelf() => Read(ProcFile.SelfMountInfo);

    public static MountTable Read(string mountInfoPath) => Parse(File.ReadLines(mountInfoPath));

    public static MountTable Parse(IEnumerable<string> mountInfoLines) => new(MountInfoParser.Parse(mountInfoLines));

    public bool IsMountPoint(string path) => _mountPoints.Value.Contains(Normalize(path));

    /// <summary>Mount points at or below <paramref name="directory"/>, deepest first (the order to unmount them in).</summary>
    public IReadOnlyList<string> MountPointsUnder(string directory)
    {
        var full = Normalize(directory);
        return _mountPoints.Value
            .Where(m => IsAtOrBelow(m, full))
            .OrderByDescending(m => m.Length)
            .ThenBy(m => m, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>The mount that holds <paramref name="path"/>: the deepest containing mount point, topmost when stacked; null when none does.</summary>
    public MountInfoEntry? MountContaining(string path)
    {
        var full = Normalize(path);
        MountInfoEntry? best = null;
        foreach (var mount in Mounts)
        {
            // Later lines are mounted on top of earlier ones at the same point, so >= keeps the topmost.
            if (IsAtOrBelow(full, mount.MountPoint) && (best is null || mount.MountPoint.Length >= best.MountPoint.Length))
                best = mount;
        }
        return best;
    }

    private static string Normalize(string path) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));

    private static bool IsAtOrBelow(string path, string directory) =>
        directory == "/" || path == directory || path.StartsWith(directory + "/", StringComparison.Ordinal);
}
