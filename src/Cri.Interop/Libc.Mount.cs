using System.Runtime.InteropServices;

namespace Crisp.Interop;

/// <summary>Mounts: classic mount(2)/umount2(2) and the fd-based mount API (fsopen/fsconfig/fsmount/move_mount, Linux 5.2+).</summary>
public static partial class Libc
{
    public const ulong MS_RDONLY = 0x1;
    public const ulong MS_NOSUID = 0x2;
    public const ulong MS_NODEV = 0x4;
    public const ulong MS_NOEXEC = 0x8;
    public const ulong MS_REMOUNT = 0x20;
    public const ulong MS_BIND = 0x1000;
    public const ulong MS_REC = 0x4000;
    public const ulong MS_PRIVATE = 0x40000;
    public const ulong MS_SLAVE = 0x80000;
    public const ulong MS_SHARED = 0x100000;

    public const int MNT_DETACH = 0x2;
    public const int UMOUNT_NOFOLLOW = 0x8;

    private const uint FSOPEN_CLOEXEC = 0x1;
    private const uint FSCONFIG_SET_FLAG = 0;
    private const uint FSCONFIG_SET_STRING = 1;
    private const uint FSCONFIG_CMD_CREATE = 6;
    private const uint FSMOUNT_CLOEXEC = 0x1;
    private const uint MOVE_MOUNT_F_EMPTY_PATH = 0x4;
    private const int AT_FDCWD = -100;

    [LibraryImport(LibName, EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MountRaw(string? source, string target, string? fstype, ulong flags, string? data);

    [LibraryImport(LibName, EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Umount2Raw(string target, int flags);

    [LibraryImport(LibName, EntryPoint = "fsopen", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int FsOpenRaw(string fsName, uint flags);

    [LibraryImport(LibName, EntryPoint = "fsconfig", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int FsConfigRaw(int fd, uint cmd, string? key, string? value, int aux);

    [LibraryImport(LibName, EntryPoint = "fsmount", SetLastError = true)]
    private static partial int FsMountRaw(int fd, uint flags, uint attrFlags);

    [LibraryImport(LibName, EntryPoint = "move_mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MoveMountRaw(int fromDirFd, string fromPath, int toDirFd, string toPath, uint flags);

    [LibraryImport(LibName, EntryPoint = "close", SetLastError = true)]
    private static partial int MountApiCloseRaw(int fd);

    public static void Mount(string? source, string target, string? fstype, ulong flags, string? data)
    {
        if (MountRaw(source, target, fstype, flags, data) != 0)
            throw SyscallException.FromLastError("mount", $"{source ?? "none"} on {target} type {fstype ?? "-"}");
    }

    /// <summary>umount2; returns false when nothing is mounted there (EINVAL) or the path is gone (ENOENT).</summary>
    public static bool Unmount(string target, int flags)
    {
        if (Umount2Raw(target, flags) == 0) return true;
        var errno = Marshal.GetLastPInvokeError();
        if (errno == Errno.EINVAL || errno == Errno.ENOENT) return false;
        throw new SyscallException("umount2", errno, target);
    }

    /// <summary>
    /// Creates a filesystem with the fd-based mount API and attaches it at <paramref name="target"/>. Each option is a
    /// separate fsconfig call, so the one-page limit of mount(2)'s data string does not apply (each value ≤ 256 bytes).
    /// A null value sets a flag option.
    /// </summary>
    public static void MountWithFsConfig(string fsType, string source, IEnumerable<KeyValuePair<string, string?>> options, string target)
    {
        var fsfd = FsOpenRaw(fsType, FSOPEN_CLOEXEC);
        if (fsfd < 0) throw SyscallException.FromLastError("fsopen", fsType);
        try
        {
            if (FsConfigRaw(fsfd, FSCONFIG_SET_STRING, "source", source, 0) != 0)
                throw SyscallException.FromLastError("fsconfig", "source=" + source);
            foreach (var (key, value) in options)
            {
                var rc = value is null
                    ? FsConfigRaw(fsfd, FSCONFIG_SET_FLAG, key, null, 0)
                    : FsConfigRaw(fsfd, FSCONFIG_SET_STRING, key, value, 0);
                if (rc != 0) throw SyscallException.FromLastError("fsconfig", value is null ? key : $"{key}={value}");
            }
            if (FsConfigRaw(fsfd, FSCONFIG_CMD_CREATE, null, null, 0) != 0)
                throw SyscallException.FromLastError("fsconfig(create)", $"{fsType} for {target}");
            var mfd = FsMountRaw(fsfd, FSMOUNT_CLOEXEC, 0);
            if (mfd < 0) throw SyscallException.FromLastError("fsmount", target);
            try
            {
                if (MoveMountRaw(mfd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) != 0)
                    throw SyscallException.FromLastError("move_mount", target);
            }
            finally
            {
                MountApiCloseRaw(mfd);
            }
        }
        finally
        {
            MountApiCloseRaw(fsfd);
        }
    }
}
