using Crisp.Interop;
using Crisp.Interop.Procfs;

namespace Crisp.Runtime.Rootfs;

/// <summary>
/// Mount-point questions about crisp's own paths, answered from the paths themselves (statx STATX_ATTR_MOUNT_ROOT)
/// so their cost follows the size of the directory asked about, not the size of the node's mount table (one overlay
/// per container: a create or remove that read it would cost more with every container on the node). On a kernel
/// that does not report mount roots the mount table is read instead.
/// </summary>
public static class MountPoints
{
    public static bool IsMountPoint(string path) => Libc.IsMountRoot(path) ?? MountTable.ReadSelf().IsMountPoint(path);

    /// <summary>
    /// The outermost mount points at or below any of <paramref name="directories"/>, deepest first (the order to
    /// detach them in; a lazy detach takes the mounts below one with it). Symlinks are not followed; a directory
    /// that does not exist has none.
    /// </summary>
    public static IReadOnlyList<string> Under(params string[] directories)
    {
        var found = new List<string>();
        var pending = new Stack<string>(directories.Select(d => Path.TrimEndingDirectorySeparator(Path.GetFullPath(d))));
        while (pending.TryPop(out var directory))
        {
            switch (Libc.IsMountRoot(directory))
            {
                case null:
                    return FromMountTable(directories);
                case true:
                    found.Add(directory);
                    continue;
            }
            foreach (var child in Subdirectories(directory)) pending.Push(child);
        }
        return found.Distinct(StringComparer.Ordinal).OrderByDescending(m => m.Length).ThenBy(m => m, StringComparer.Ordinal).ToList();
    }

    private static readonly EnumerationOptions OneLevelNoSymlinks = new()
    {
        RecurseSubdirectories = false,
        // Symlinks are reparse points here: one pointing at a directory elsewhere is not below the directory asked about.
        AttributesToSkip = FileAttributes.ReparsePoint,
        IgnoreInaccessible = false,
    };

    private static IEnumerable<string> Subdirectories(string directory)
    {
        try
        {
            return Directory.EnumerateDirectories(directory, "*", OneLevelNoSymlinks).ToList();
        }
        catch (DirectoryNotFoundException)
        {
            return [];
        }
    }

    private static IReadOnlyList<string> FromMountTable(string[] directories)
    {
        var table = MountTable.ReadSelf();
        return directories.SelectMany(table.MountPointsUnder).Distinct(StringComparer.Ordinal).OrderByDescending(m => m.Length).ToList();
    }
}
