using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Crisp.Interop;

/// <summary>Named pipes: conmon's sync and control fifos.</summary>
public static partial class Libc
{
    public const int O_RDONLY = 0x0;
    public const int O_WRONLY = 0x1;
    public const int O_RDWR = 0x2;
    public const int O_CREAT = 0x40;
    public const int O_APPEND = 0x400;
    public const int O_NONBLOCK = 0x800;
    public const int O_CLOEXEC = 0x80000;
    private const int ENXIO = 6;

    [LibraryImport(LibName, EntryPoint = "mkfifo", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int FifoMkFifoRaw(string path, uint mode);

    [LibraryImport(LibName, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int FifoOpenRaw(string path, int flags, uint mode);

    public static void MkFifo(string path, uint mode)
    {
        if (FifoMkFifoRaw(path, mode) != 0) throw SyscallException.FromLastError("mkfifo", path);
    }

    /// <summary>open(2) returning an owned handle; O_CLOEXEC is always added so children never inherit it.</summary>
    public static SafeFileHandle Open(string path, int flags, uint mode = 0)
    {
        var fd = FifoOpenRaw(path, flags | O_CLOEXEC, mode);
        if (fd < 0) throw SyscallException.FromLastError("open", path);
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>
    /// Opens a fifo for writing without blocking; returns null when nobody has it open for reading (ENXIO),
    /// which for a conmon control fifo means conmon is gone.
    /// </summary>
    public static SafeFileHandle? TryOpenFifoForWrite(string path)
    {
        var fd = FifoOpenRaw(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC, 0);
        if (fd >= 0) return new SafeFileHandle(fd, ownsHandle: true);
        var errno = Marshal.GetLastPInvokeError();
        if (errno == ENXIO || errno == Errno.ENOENT) return null;
        throw new SyscallException("open", errno, path);
    }
}
