using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Crisp.Interop;

/// <summary>
/// The calls a layer unpacker needs to recreate a tar entry faithfully: ownership, special
/// files, hard links, extended attributes and timestamps, all without following symlinks.
/// </summary>
public static partial class Libc
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const int ORdOnly = 0;
    private const int ODirectory = 0x10000;
    private const int OCloExec = 0x80000;

    public const uint SIfIfo = 0x1000;
    public const uint SIfChr = 0x2000;
    public const uint SIfBlk = 0x6000;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport(LibName, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int StatxRaw(int dirFd, string path, int flags, uint mask, Span<byte> buffer);

    [LibraryImport(LibName, EntryPoint = "lchown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LchownRaw(string path, uint uid, uint gid);

    [LibraryImport(LibName, EntryPoint = "mknod", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MknodRaw(string path, uint mode, ulong device);

    [LibraryImport(LibName, EntryPoint = "linkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LinkatRaw(int oldDirFd, string oldPath, int newDirFd, string newPath, int flags);

    [LibraryImport(LibName, EntryPoint = "lsetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LsetxattrRaw(string path, string name, ReadOnlySpan<byte> value, nuint size, int flags);

    [LibraryImport(LibName, EntryPoint = "lgetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint LgetxattrRaw(string path, string name, Span<byte> value, nuint size);

    [LibraryImport(LibName, EntryPoint = "utimensat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int UtimensatRaw(int dirFd, string path, ReadOnlySpan<TimeSpec> times, int flags);

    [LibraryImport(LibName, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenRaw(string path, int flags);

    [LibraryImport(LibName, EntryPoint = "close", SetLastError = true)]
    private static partial int CloseRaw(int fd);

    [LibraryImport(LibName, EntryPoint = "syncfs", SetLastError = true)]
    private static partial int SyncfsRaw(int fd);

    private const uint SyncFileRangeWrite = 2;

    [LibraryImport(LibName, EntryPoint = "sync_file_range", SetLastError = true)]
    private static partial int SyncFileRangeRaw(int fd, long offset, long count, uint flags);

    /// <summary>What lstat says about a path: the entry itself, never a symlink's target.</summary>
    public readonly record struct EntryStatus(uint Mode, ulong Inode, uint LinkCount, uint Uid, uint Gid, ulong Size, ulong Blocks, uint DeviceMajor, uint DeviceMinor)
    {
        public uint FileType => Mode & 0xF000;
        public bool IsDirectory => FileType == 0x4000;
        public bool IsSymbolicLink => FileType == 0xA000;
        public bool IsRegularFile => FileType == 0x8000;
    }

    /// <summary>lstat via statx (one layout on every architecture); null when the path does not exist.</summary>
    public static EntryStatus? StatNoFollow(string path)
    {
        Span<byte> buffer = stackalloc byte[256];
        const uint StatxBasicStats = 0x7ff;
        if (StatxRaw(AtFdCwd, path, AtSymlinkNoFollow, StatxBasicStats, buffer) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno is Errno.ENOENT or Errno.ENOTDIR) return null;
            throw new SyscallException("statx", errno, path);
        }
        return new EntryStatus(
            Mode: MemoryMarshal.Read<ushort>(buffer[28..]),
            Inode: ReadU64(buffer[32..]),
            LinkCount: ReadU32(buffer[16..]),
            Uid: ReadU32(buffer[20..]),
            Gid: ReadU32(buffer[24..]),
            Size: ReadU64(buffer[40..]),
            Blocks: ReadU64(buffer[48..]),
            DeviceMajor: ReadU32(buffer[128..]),
            DeviceMinor: ReadU32(buffer[132..]));

        // statx fields are in the machine's byte order.
        static uint ReadU32(ReadOnlySpan<byte> b) => MemoryMarshal.Read<uint>(b);
        static ulong ReadU64(ReadOnlySpan<byte> b) => MemoryMarshal.Read<ulong>(b);
    }

    /// <summary>Changes owner of <paramref name="path"/> itself, never of a symlink's target.</summary>
    public static void Lchown(string path, uint uid, uint gid)
    {
        if (LchownRaw(path, uid, gid) != 0) throw SyscallException.FromLastError("lchown", $"{path}, {uid}:{gid}");
    }

    /// <summary>The kernel's dev_t encoding of a major/minor pair (glibc's makedev).</summary>
    public static ulong MakeDevice(uint major, uint minor) =>
        ((ulong)(major & 0xfffff000u) << 32) | ((ulong)(major & 0xfffu) << 8) |
        ((ulong)(minor & 0xffffff00u) << 12) | (minor & 0xffu);

    /// <summary>Creates a device node or fifo; <paramref name="mode"/> carries the S_IF* type bits.</summary>
    public static void MakeNode(string path, uint mode, uint major, uint minor)
    {
        if (MknodRaw(path, mode, MakeDevice(major, minor)) != 0)
            throw SyscallException.FromLastError("mknod", $"{path}, mode {Convert.ToString(mode, 8)}, {major}:{minor}");
    }

    /// <summary>Creates hard link <paramref name="newPath"/>; a symlink at <paramref name="existingPath"/> is linked itself, not followed.</summary>
    public static void HardLink(string existingPath, string newPath)
    {
        if (LinkatRaw(AtFdCwd, existingPath, AtFdCwd, newPath, 0) != 0)
            throw SyscallException.FromLastError("linkat", $"{existingPath} -> {newPath}");
    }

    /// <summary>Sets an extended attribute on the path itself (a symlink is not followed).</summary>
    public static void SetXattrNoFollow(string path, string name, ReadOnlySpan<byte> value)
    {
        if (LsetxattrRaw(path, name, value, (nuint)value.Length, 0) != 0)
            throw SyscallException.FromLastError("lsetxattr", $"{path}, {name}");
    }

    /// <summary>Reads an extended attribute of the path itself; null when it is not set.</summary>
    public static byte[]? GetXattrNoFollow(string path, string name)
    {
        Span<byte> buffer = stackalloc byte[4096];
        nint length = LgetxattrRaw(path, name, buffer, (nuint)buffer.Length);
        if (length >= 0) return buffer[..(int)length].ToArray();
        int errno = Marshal.GetLastPInvokeError();
        if (errno == Errno.ENODATA) return null;
        throw new SyscallException("lgetxattr", errno, $"{path}, {name}");
    }

    /// <summary>Sets access and modification times of the path itself (a symlink is not followed).</summary>
    public static void SetTimesNoFollow(string path, DateTimeOffset accessed, DateTimeOffset modified)
    {
        ReadOnlySpan<TimeSpec> times = [ToTimeSpec(accessed), ToTimeSpec(modified)];
        if (UtimensatRaw(AtFdCwd, path, times, AtSymlinkNoFollow) != 0)
            throw SyscallException.FromLastError("utimensat", path);
    }

    /// <summary>Flushes every dirty page of the filesystem holding <paramref name="directory"/> to disk.</summary>
    public static void SyncFilesystem(string directory)
    {
        int fd = OpenRaw(directory, ORdOnly | ODirectory | OCloExec);
        if (fd < 0) throw SyscallException.FromLastError("open", directory);
        try
        {
            if (SyncfsRaw(fd) != 0) throw SyscallException.FromLastError("syncfs", directory);
        }
        finally
        {
            CloseRaw(fd);
        }
    }

    /// <summary>
    /// Starts writing the file's dirty pages to disk and returns without waiting
    /// (sync_file_range SYNC_FILE_RANGE_WRITE), so a later <see cref="SyncFilesystem"/> finds less left to write.
    /// Durability still comes from that later call: this is only a head start.
    /// </summary>
    public static void StartWriteback(SafeFileHandle file, string path)
    {
        bool added = false;
        file.DangerousAddRef(ref added);
        try
        {
            if (SyncFileRangeRaw((int)file.DangerousGetHandle(), 0, 0, SyncFileRangeWrite) != 0)
                throw SyscallException.FromLastError("sync_file_range", path);
        }
        finally
        {
            if (added) file.DangerousRelease();
        }
    }

    private static TimeSpec ToTimeSpec(DateTimeOffset time)
    {
        long ticks = time.UtcTicks - DateTime.UnixEpoch.Ticks;
        long seconds = Math.DivRem(ticks, TimeSpan.TicksPerSecond, out long remainder);
        if (remainder < 0)
        {
            seconds -= 1;
            remainder += TimeSpan.TicksPerSecond;
        }
        return new TimeSpec { Seconds = seconds, Nanoseconds = remainder * 100 };
    }
}
