using System.Globalization;

namespace Crisp.Bench;

/// <summary>Which process listens on a unix socket path: /proc/net/unix gives the socket's inode, /proc/PID/fd its holder.</summary>
public static class SocketOwner
{
    private const int AcceptingConnections = 0x10000;

    public static int? FindListener(string socketPath)
    {
        var inode = ListeningInode(socketPath);
        if (inode is null) return null;
        var link = $"socket:[{inode}]";
        foreach (var process in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(process), out var pid)) continue;
            try
            {
                foreach (var fd in Directory.EnumerateFileSystemEntries(Path.Combine(process, "fd")))
                {
                    if (new FileInfo(fd).LinkTarget == link) return pid;
                }
            }
            catch (IOException)
            {
                // The process ended while we looked.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        return null;
    }

    private static string? ListeningInode(string socketPath)
    {
        // Num RefCount Protocol Flags Type St Inode Path
        foreach (var line in File.ReadLines("/proc/net/unix").Skip(1))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 8 || fields[7] != socketPath) continue;
            if ((int.Parse(fields[3], NumberStyles.HexNumber, CultureInfo.InvariantCulture) & AcceptingConnections) != 0) return fields[6];
        }
        return null;
    }
}
