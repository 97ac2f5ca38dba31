using System.Runtime.InteropServices;

namespace Crisp.Interop;

/// <summary>What stat says about a file when it is (or may be) a device node.</summary>
public readonly record struct DeviceNodeInfo(char Type, uint Major, uint Minor, uint Mode, uint Uid, uint Gid)
{
    /// <summary>'c' char device, 'b' block device, 'p' fifo; anything else is not a device node.</summary>
    public bool IsDevice => Type is 'c' or 'b' or 'p';
}

public static partial class Libc
{
    private const int DevNodeAtFdCwd = -100;
    private const int DevNodeAtSymlinkNoFollow = 0x100;
    private const uint DevNodeStatxMask = 0x7ff;
    // statx's struct layout is the same on every architecture, unlike struct stat.
    private const int DevNodeStatxSize = 256;
    private const int DevNodeStatxUidOffset = 20, DevNodeStatxGidOffset = 24, DevNodeStatxModeOffset = 28, DevNodeStatxRdevMajorOffset = 128, DevNodeStatxRdevMinorOffset = 132;

    [LibraryImport(LibName, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int StatxDeviceNodeRaw(int dirfd, string path, int flags, uint mask, byte* buffer);

    /// <summary>
    /// stat()s a path for its device numbers. Returns null when it does not exist. Symlinks are followed
    /// unless <paramref name="followSymlinks"/> is false (then a symlink reports Type 'l').
    /// </summary>
    public static unsafe DeviceNodeInfo? StatDeviceNode(string path, bool followSymlinks = true)
    {
        var buffer = stackalloc byte[DevNodeStatxSize];
        if (StatxDeviceNodeRaw(DevNodeAtFdCwd, path, followSymlinks ? 0 : DevNodeAtSymlinkNoFollow, DevNodeStatxMask, buffer) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno is Errno.ENOENT or Errno.ENOTDIR) return null;
            throw new SyscallException("statx", errno, path);
        }

        var mode = *(ushort*)(buffer + DevNodeStatxModeOffset);
        var type = (mode & 0xF000) switch
        {
            0x2000 => 'c',
            0x6000 => 'b',
            0x1000 => 'p',
            0x4000 => 'd',
            0xA000 => 'l',
            0x8000 => 'f',
            _ => '?',
        };
        return new DeviceNodeInfo(
            type,
            *(uint*)(buffer + DevNodeStatxRdevMajorOffset),
            *(uint*)(buffer + DevNodeStatxRdevMinorOffset),
            (uint)(mode & 0xFFF),
            *(uint*)(buffer + DevNodeStatxUidOffset),
            *(uint*)(buffer + DevNodeStatxGidOffset));
    }
}
