using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Crisp.Interop;

/// <summary>Pseudo-terminals: the host-side pty a streaming exec with tty runs the runtime on.</summary>
public static partial class Libc
{
    private const int O_NOCTTY = 0x100;
    // x86_64 and aarch64 share the asm-generic tty ioctl numbers.
    private const ulong TIOCGWINSZ = 0x5413;
    private const ulong TIOCSWINSZ = 0x5414;

    [StructLayout(LayoutKind.Sequential)]
    private struct WinSize
    {
        public ushort Rows;
        public ushort Columns;
        public ushort XPixels;
        public ushort YPixels;
    }

    [LibraryImport(LibName, EntryPoint = "posix_openpt", SetLastError = true)]
    private static partial int PtyOpenRaw(int flags);

    [LibraryImport(LibName, EntryPoint = "grantpt", SetLastError = true)]
    private static partial int PtyGrantRaw(int fd);

    [LibraryImport(LibName, EntryPoint = "unlockpt", SetLastError = true)]
    private static partial int PtyUnlockRaw(int fd);

    [LibraryImport(LibName, EntryPoint = "ptsname_r", SetLastError = true)]
    private static unsafe partial int PtyNameRaw(int fd, byte* buffer, nuint length);

    [LibraryImport(LibName, EntryPoint = "ioctl", SetLastError = true)]
    private static partial int PtyIoctlRaw(int fd, ulong request, ref WinSize size);

    /// <summary>
    /// Opens a new pty master (close-on-exec, never our controlling terminal) and returns it with the path of its
    /// slave, unlocked and ready for a child to open.
    /// </summary>
    public static unsafe (SafeFileHandle Master, string SlavePath) OpenPseudoTerminal()
    {
        var fd = PtyOpenRaw(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (fd < 0) throw SyscallException.FromLastError("posix_openpt", "/dev/ptmx");
        var master = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            if (PtyGrantRaw(fd) != 0) throw SyscallException.FromLastError("grantpt", $"fd {fd}");
            if (PtyUnlockRaw(fd) != 0) throw SyscallException.FromLastError("unlockpt", $"fd {fd}");
            var buffer = stackalloc byte[128];
            // ptsname_r returns the error number itself rather than setting errno.
            var rc = PtyNameRaw(fd, buffer, 128);
            if (rc != 0) throw new SyscallException("ptsname_r", rc, $"fd {fd}");
            return (master, Marshal.PtrToStringUTF8((nint)buffer) ?? throw new SyscallException("ptsname_r", Errno.EINVAL, $"fd {fd}"));
        }
        catch
        {
            master.Dispose();
            throw;
        }
    }

    /// <summary>Sets a terminal's window size (TIOCSWINSZ); the kernel sends SIGWINCH to its foreground group.</summary>
    public static void SetWindowSize(SafeFileHandle terminal, ushort rows, ushort columns)
    {
        var size = new WinSize { Rows = rows, Columns = columns };
        var added = false;
        terminal.DangerousAddRef(ref added);
        try
        {
            if (PtyIoctlRaw((int)terminal.DangerousGetHandle(), TIOCSWINSZ, ref size) != 0)
                throw SyscallException.FromLastError("ioctl(TIOCSWINSZ)", $"{rows} rows x {columns} columns");
        }
        finally
        {
            if (added) terminal.DangerousRelease();
        }
    }

    /// <summary>A terminal's window size (TIOCGWINSZ) as rows and columns.</summary>
    public static (ushort Rows, ushort Columns) GetWindowSize(SafeFileHandle terminal)
    {
        var size = new WinSize();
        var added = false;
        terminal.DangerousAddRef(ref added);
        try
        {
            if (PtyIoctlRaw((int)terminal.DangerousGetHandle(), TIOCGWINSZ, ref size) != 0)
                throw SyscallException.FromLastError("ioctl(TIOCGWINSZ)");
            return (size.Rows, size.Columns);
        }
        finally
        {
            if (added) terminal.DangerousRelease();
        }
    }
}
