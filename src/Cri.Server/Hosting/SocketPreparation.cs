using System.Net.Sockets;
using Crisp.Interop;

namespace Crisp.Server.Hosting;

/// <summary>
/// Makes the socket path ready to bind: a private directory, no stale file, and no other crispd
/// already answering there (two daemons on one socket would fight over the same containers).
/// </summary>
public static class SocketPreparation
{
    private const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Owner and group may connect (the kubelet runs as root; a node may grant a group).</summary>
    public const uint SocketMode = 0x1B0; // 0660

    public static void Prepare(string socketPath)
    {
        var directory = Path.GetDirectoryName(socketPath)
                        ?? throw new InvalidOperationException($"socket path {socketPath} has no directory");
        Directory.CreateDirectory(directory, DirectoryMode);
        File.SetUnixFileMode(directory, DirectoryMode);

        if (!File.Exists(socketPath) && !Directory.Exists(socketPath)) return;
        if (Directory.Exists(socketPath))
            throw new IOException($"socket path {socketPath} is a directory");

        if (IsAnswering(socketPath))
            throw new IOException($"another process (a running crispd?) is already serving {socketPath}; stop it first");

        // Nobody answers: a previous crispd died without removing it.
        File.Delete(socketPath);
    }

    /// <summary>Called once Kestrel has created the socket file.</summary>
    public static void RestrictPermissions(string socketPath) => Libc.Chmod(socketPath, SocketMode);

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
