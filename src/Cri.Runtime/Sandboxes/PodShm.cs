using Crisp.Interop;
using Crisp.Interop.Procfs;

namespace Crisp.Runtime.Sandboxes;

/// <summary>
/// The per-pod /dev/shm: one tmpfs shared by every container of a pod with its own IPC namespace,
/// sized like the 64 MiB default of docker and containerd.
/// </summary>
public static class PodShm
{
    public const long SizeBytes = 64L * 1024 * 1024;

    public static void Mount(string path)
    {
        // A mount point: the tmpfs root (1777) covers it once mounted.
        OwnedDirectory.Ensure(path);
        if (MountTable.ReadSelf().IsMountPoint(path)) return;
        Libc.Mount("shm", path, "tmpfs", Libc.MS_NOSUID | Libc.MS_NODEV | Libc.MS_NOEXEC, $"mode=1777,size={SizeBytes}");
    }

    /// <summary>Unmounts when mounted; an absent or already unmounted path is success.</summary>
    public static void Unmount(string path)
    {
        if (!MountTable.ReadSelf().IsMountPoint(path)) return;
        Libc.Unmount(path, Libc.MNT_DETACH);
    }
}
