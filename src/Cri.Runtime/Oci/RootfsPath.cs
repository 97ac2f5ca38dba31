namespace Crisp.Runtime.Oci;

/// <summary>
/// Resolves a path inside a container rootfs the way the container itself would see it: symlinks are
/// followed relative to the rootfs, ".." never climbs above it, so an image whose /etc/passwd points at
/// the host's /etc/shadow reads the rootfs' own file (or nothing), never the host's.
/// </summary>
internal static class RootfsPath
{
    private const int MaxSymlinkHops = 40;

    /// <summary>The host path of <paramref name="containerPath"/>; it may not exist.</summary>
    public static string Resolve(string rootfs, string containerPath)
    {
        var root = Path.GetFullPath(rootfs).TrimEnd('/');
        var pending = new LinkedList<string>(Split(containerPath));
        var resolved = new List<string>();
        var hops = 0;

        while (pending.First is { } node)
        {
            pending.RemoveFirst();
            var part = node.Value;
            if (part is "." or "") continue;
            if (part == "..")
            {
                if (resolved.Count > 0) resolved.RemoveAt(resolved.Count - 1);
                continue;
            }

            var candidate = Join(root, resolved, part);
            var target = new FileInfo(candidate).LinkTarget;
            if (target is null)
            {
                resolved.Add(part);
                continue;
            }

            if (++hops > MaxSymlinkHops)
                throw new IOException($"too many levels of symbolic links resolving {containerPath} in {rootfs}");
            if (target.StartsWith('/')) resolved.Clear();
            var parts = Split(target);
            for (var i = parts.Length - 1; i >= 0; i--) pending.AddFirst(parts[i]);
        }

        return Join(root, resolved, null);
    }

    /// <summary>Largest passwd/group file crisp reads; anything bigger is not a real account database.</summary>
    private const long MaxTextFileBytes = 4 * 1024 * 1024;

    /// <summary>
    /// Reads a small regular text file inside the rootfs; null when it does not exist, is not a regular file
    /// (a FIFO would block the read forever), is too large, or its path loops.
    /// </summary>
    public static string? ReadTextOrNull(string rootfs, string containerPath)
    {
        string hostPath;
        try
        {
            hostPath = Resolve(rootfs, containerPath);
        }
        catch (IOException)
        {
            return null;
        }

        if (Crisp.Interop.Libc.StatDeviceNode(hostPath, followSymlinks: false) is not { Type: 'f' }) return null;
        try
        {
            using var stream = new FileStream(hostPath, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, Options = FileOptions.None });
            if (stream.Length > MaxTextFileBytes) return null;
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    private static string[] Split(string path) => path.Split('/', StringSplitOptions.RemoveEmptyEntries);

    private static string Join(string root, List<string> parts, string? last)
    {
        var joined = root + "/" + string.Join('/', parts);
        if (last is null) return parts.Count == 0 ? root + "/" : joined;
        return parts.Count == 0 ? root + "/" + last : joined + "/" + last;
    }
}
