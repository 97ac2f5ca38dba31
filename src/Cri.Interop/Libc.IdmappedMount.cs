using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Crisp.Interop;

/// <summary>
/// Idmapped bind mounts (Linux 5.12+): open_tree(OPEN_TREE_CLONE) detaches a copy of a mount,
/// mount_setattr(MOUNT_ATTR_IDMAP) gives it a user namespace's id mapping, move_mount attaches it.
/// </summary>
public static partial class Libc
{
    private const uint OPEN_TREE_CLONE = 0x1;
    private const uint OPEN_TREE_CLOEXEC = 0x80000;
    private const uint AT_EMPTY_PATH = 0x1000;
    private const ulong MOUNT_ATTR_IDMAP = 0x00100000;

    [StructLayout(LayoutKind.Sequential)]
    private struct MountAttr
    {
        public ulong AttrSet;
        public ulong AttrClr;
        public ulong Propagation;
        public ulong UsernsFd;
    }

    [LibraryImport(LibName, EntryPoint = "open_tree", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenTreeRaw(int dirFd, string path, uint flags);

    [LibraryImport(LibName, EntryPoint = "mount_setattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MountSetAttrRaw(int dirFd, string path, uint flags, ref MountAttr attr, nuint size);

    /// <summary>
    /// Attaches at <paramref name="target"/> a clone of the mount at <paramref name="source"/> whose ids are mapped
    /// through <paramref name="userNamespace"/> (an open /proc/…/ns/user or a pinned copy of it): a file owned by
    /// on-disk id N is seen as the host id N maps to, and a write by that host id is stored as N. Not recursive:
    /// idmapping fails on submounts whose filesystem cannot be idmapped, and a bind volume's submounts are rare.
    /// </summary>
    public static void MountIdmapped(string source, string target, SafeFileHandle userNamespace)
    {
        var tree = OpenTreeRaw(AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        if (tree < 0) throw SyscallException.FromLastError("open_tree", source);
        var added = false;
        userNamespace.DangerousAddRef(ref added);
        try
        {
            var attr = new MountAttr { AttrSet = MOUNT_ATTR_IDMAP, UsernsFd = (ulong)userNamespace.DangerousGetHandle() };
            if (MountSetAttrRaw(tree, "", AT_EMPTY_PATH, ref attr, (nuint)Marshal.SizeOf<MountAttr>()) != 0)
                throw SyscallException.FromLastError("mount_setattr(MOUNT_ATTR_IDMAP)", source);
            if (MoveMountRaw(tree, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) != 0)
                throw SyscallException.FromLastError("move_mount", $"{source} to {target}");
        }
        finally
        {
            if (added) userNamespace.DangerousRelease();
            MountApiCloseRaw(tree);
        }
    }
}
