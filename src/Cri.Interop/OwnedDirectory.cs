namespace Crisp.Interop;

/// <summary>
/// Creates directories with exactly the mode asked for (mkdir, then chmod: the umask would narrow it). A missing
/// parent is created 0700, so nothing becomes reachable through a directory crisp made on the way.
/// </summary>
public static class OwnedDirectory
{
    /// <summary>
    /// A directory crisp owns: created when missing, otherwise set to <paramref name="mode"/>, so an installation
    /// an older crispd left 0755 is tightened at start. Never for a directory crisp may share with others.
    /// </summary>
    public static void Ensure(string path, UnixFileMode mode = FileModes.PrivateDirectory)
    {
        if (!CreateIfMissing(path, mode)) Libc.Chmod(path, (uint)mode);
    }

    /// <summary>
    /// Creates <paramref name="path"/> with <paramref name="mode"/> and returns true; returns false and changes
    /// nothing when a directory is already there (the kubelet's log dirs, /run under a socket).
    /// </summary>
    public static bool CreateIfMissing(string path, UnixFileMode mode)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        if (Directory.Exists(full)) return false;
        var parent = Path.GetDirectoryName(full);
        if (parent is not null) CreateIfMissing(parent, FileModes.PrivateDirectory);
        if (!Libc.MakeDirectory(full, (uint)mode))
        {
            // Another creator won the race (fine), or something that is not a directory is in the way.
            if (Directory.Exists(full)) return false;
            throw new IOException($"cannot create directory {full}: a file that is not a directory is there");
        }
        Libc.Chmod(full, (uint)mode);
        return true;
    }
}
