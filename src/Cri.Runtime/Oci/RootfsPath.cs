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

    /// <summary>Reads a text file inside the rootfs; null when it does not exist or is not a regular file.</summary>
    public static string? ReadTextOrNull(string rootfs, string containerPath)
    {
        var hostPath = Resolve(rootfs, containerPath);
        var info = new FileInfo(hostPath);
        if (!info.Exists || info.LinkTarget is not null) return null;
        try
        {
            return File.ReadAllText(hostPath);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
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
