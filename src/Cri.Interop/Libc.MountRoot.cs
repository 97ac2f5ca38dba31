using System.Runtime.InteropServices;

namespace Crisp.Interop;

public static partial class Libc
{
    private const uint StatxAttrMountRoot = 0x2000;
    private const int StatxAttributesOffset = 8, StatxAttributesMaskOffset = 56;

    /// <summary>
    /// Whether <paramref name="path"/> itself (never a symlink's target) is the root of a mount, from one statx
    /// (STATX_ATTR_MOUNT_ROOT, Linux 5.8+) instead of a read of the whole mount table, whose size grows with every
    /// container on the node. False when the path does not exist; null when this kernel does not say.
    /// </summary>
    public static bool? IsMountRoot(string path)
    {
        Span<byte> buffer = stackalloc byte[256];
        // No fields are asked for: stx_attributes and its mask are always filled.
        if (StatxRaw(AtFdCwd, path, AtSymlinkNoFollow, 0, buffer) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno is Errno.ENOENT or Errno.ENOTDIR) return false;
            throw new SyscallException("statx", errno, path);
        }
        var known = MemoryMarshal.Read<ulong>(buffer[StatxAttributesMaskOffset..]);
        if ((known & StatxAttrMountRoot) == 0) return null;
        return (MemoryMarshal.Read<ulong>(buffer[StatxAttributesOffset..]) & StatxAttrMountRoot) != 0;
    }
}
