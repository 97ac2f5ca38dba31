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

    /// <summary>sun_path is 108 bytes including the terminating NUL.</summary>
    private const int MaxSocketPathBytes = 107;

    /// <summary>Owner and group may connect (the kubelet runs as root; a node may grant a group).</summary>
    public const uint SocketMode = 0x1B0; // 0660

    public static void Prepare(string socketPath)
    {
        var directory = Path.GetDirectoryName(socketPath)
                        ?? throw new InvalidOperationException($"socket path {socketPath} has no directory");
        OwnedDirectory.CreateIfMissing(directory, FileModes.PrivateDirectory);

        if (Problem(socketPath) is { } problem) throw new IOException(problem);
        // Nobody answers: a previous crispd died without removing it.
        if (Libc.StatNoFollow(socketPath) is not null) File.Delete(socketPath);
    }

    /// <summary>Why crispd could not listen on <paramref name="socketPath"/> now, or null (absent, or a stale socket it would replace).</summary>
    public static string? Problem(string socketPath)
    {
        if (System.Text.Encoding.UTF8.GetByteCount(socketPath) > MaxSocketPathBytes)
            return $"socket path {socketPath} is longer than the {MaxSocketPathBytes} bytes a unix socket address holds";
        var existing = Libc.StatNoFollow(socketPath);
        if (existing is null) return null;
        if (existing.Value.FileType != SocketFileType)
            return $"socket path {socketPath} holds {Describe(existing.Value)}, not a socket; " +
                   "crispd deletes only a stale socket there: remove it yourself or set [grpc] socket to another path";
        return IsAnswering(socketPath)
            ? $"another process (a running crispd?) is already serving {socketPath}; stop it first"
            : null;
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

    /// <summary>Whether something accepts connections on <paramref name="socketPath"/> (listen() was called).</summary>
    public static bool IsAnswering(string socketPath)
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
