using System.Text;
using Crisp.Interop;
using Microsoft.Win32.SafeHandles;

namespace Crisp.Runtime.Streaming;

/// <summary>
/// Where a container's conmon listens for attach clients. conmon (2.1.x, started with --socket-dir-path D and
/// -u ID) links D/ID to the bundle and binds "attach" inside it, so the socket file itself is &lt;bundle&gt;/attach
/// whatever D is. It is a SOCK_SEQPACKET socket: every message conmon sends is one read of the container's
/// output prefixed by a pipe byte, every message we send is written to the container's stdin.
/// </summary>
internal static class ConmonAttachSocket
{
    public const string FileName = "attach";

    /// <summary>conmon's stdpipe_t: 1 would be stdin (never sent), then stdout and stderr.</summary>
    public const byte StdoutPipe = 2;
    public const byte StderrPipe = 3;

    /// <summary>sun_path holds 108 bytes including the terminating NUL.</summary>
    internal const int MaxSocketPathBytes = 107;

    /// <summary>conmon reads at most CONN_SOCK_BUF_SIZE - 1 bytes per message from an attach client.</summary>
    public const int MaxInputMessage = 32 * 1024 - 1;

    /// <summary>conmon sends at most STDIO_BUF_SIZE bytes of output plus the pipe byte per message.</summary>
    public const int MaxOutputMessage = 8192 + 1;

    public static string PathIn(string bundlePath) => Path.Combine(bundlePath, FileName);

    /// <summary>
    /// The address to connect to: the socket's path when it fits in sun_path, else the same file reached through
    /// an fd of its directory (/proc/self/fd/N/attach), the way conmon binds it. The fd must stay open until the
    /// connect is done; it is returned for the caller to dispose.
    /// </summary>
    public static (string Address, SafeFileHandle? DirectoryHandle) Address(string bundlePath)
    {
        var path = PathIn(bundlePath);
        if (Encoding.UTF8.GetByteCount(path) <= MaxSocketPathBytes) return (path, null);
        var dir = Libc.Open(bundlePath, Libc.O_PATH | Libc.O_DIRECTORY);
        return (ViaDirectoryFd((int)dir.DangerousGetHandle()), dir);
    }

    internal static string ViaDirectoryFd(int directoryFd) => $"/proc/self/fd/{directoryFd}/{FileName}";

    /// <summary>The control fifo message that resizes the container's terminal ("1 &lt;height&gt; &lt;width&gt;\n").</summary>
    public static string ResizeMessage(TerminalSize size) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"1 {size.Height} {size.Width}\n");
}
