namespace Crisp.Runtime.Stats;

/// <summary>Bytes and inodes a container wrote: a walk of its overlay upper directory (like `du`).</summary>
public static class WritableLayerUsage
{
    public static (ulong Bytes, ulong Inodes) Measure(string upperDirectory)
    {
        if (!Directory.Exists(upperDirectory)) return (0, 0);
        ulong bytes = 0, inodes = 0;
        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            AttributesToSkip = 0,
            IgnoreInaccessible = true,
            ReturnSpecialDirectories = false,
        };
        foreach (var info in new DirectoryInfo(upperDirectory).EnumerateFileSystemInfos("*", options))
        {
            inodes++;
            // Symlinks and directories count as inodes; their size is the link text or negligible.
            if (info is FileInfo file && file.LinkTarget is null) bytes += (ulong)file.Length;
        }
        return (bytes, inodes);
    }
}
