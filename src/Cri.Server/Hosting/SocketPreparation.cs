using System.Net.Sockets;
using Crisp.Interop;

namespace Crisp.Server.Hosting;

/// <summary>
/// Makes the socket path ready to bind: its directory (created private when missing, left as it is when it
/// exists: /run is not crisp's to chmod), no stale socket, and no other crispd already answering there (two
/// daemons on one socket would fight over the same containers). Only a socket is ever deleted: anything else at
/// the path is someone's file, and crispd refuses to start rather than remove it.
/// </summary>
public static class SocketPreparation
{
    private const uint SocketFileType = 0xC000;

    /// <summary>Owner and group may connect (the kubelet runs as root; a node may grant a group).</summary>
    public const uint SocketMode = 0x1B0; // 0660

    public static void Prepare(string socketPath)
    {
        var directory = Path.GetDirectoryName(socketPath)
                        ?? throw new InvalidOperationException($"socket path {socketPath} has no directory");
        OwnedDirectory.CreateIfMissing(directory, FileModes.PrivateDirectory);

        var existing = Libc.StatNoFollow(socketPath);
        if (existing is null) return;
        if (existing.Value.FileType != SocketFileType)
            throw new IOException($"socket path {socketPath} holds {Describe(existing.Value)}, not a socket; " +
                                  "crispd deletes only a stale socket there: remove it yourself or set [grpc] socket to another path");

        if (IsAnswering(socketPath))
            throw new IOException($"another process (a running crispd?) is already serving {socketPath}; stop it first");

        // Nobody answers: a previous crispd died without removing it.
        File.Delete(socketPath);
    }

    /// <summary>Called once Kestrel has created the socket file.</summary>
    public static void RestrictPermissions(string socketPath) => Libc.Chmod(socketPath, SocketMode);

    private static string Describe(Libc.EntryStatus status) => status.FileType switch
    {
        _ when status.IsDirectory => "a directory",
        _ when status.IsRegularFile => $"a regular file ({status.Size} bytes)",
        _ when status.IsSymbolicLink => "a symbolic link",
        Libc.SIfIfo => "a fifo",
        Libc.SIfChr => "a character device",
        _ => "a block device",
    };

    private static bool IsAnswering(string socketPath)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(socketPath));
            return true;
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused or SocketError.AddressNotAvailable)
        {
            return false;
        }
    }
}
