using Crisp.Interop;
using Crisp.Runtime.Rootfs;

namespace Crisp.Runtime.Sandboxes;

/// <summary>
/// The per-pod /dev/shm: one tmpfs shared by every container of a pod with its own IPC namespace,
/// sized like the 64 MiB default of docker and containerd.
/// </summary>
public static class PodShm
{
    public const long SizeBytes = 64L * 1024 * 1024;

    /// <param name="selinuxMountLabel">The pod's SELinux file label, given to the tmpfs as context= (as containerd does).</param>
    public static void Mount(string path, string? selinuxMountLabel)
    {
        // A mount point: the tmpfs root (1777) covers it once mounted.
        OwnedDirectory.Ensure(path);
        if (MountPoints.IsMountPoint(path)) return;
        Libc.Mount("shm", path, "tmpfs", Libc.MS_NOSUID | Libc.MS_NODEV | Libc.MS_NOEXEC, Options(selinuxMountLabel));
    }

    internal static string Options(string? selinuxMountLabel) =>
        selinuxMountLabel is null ? $"mode=1777,size={SizeBytes}" : $"mode=1777,size={SizeBytes},context=\"{selinuxMountLabel}\"";

    /// <summary>Unmounts when mounted; an absent or already unmounted path is success.</summary>
    public static void Unmount(string path)
    {
        if (!MountPoints.IsMountPoint(path)) return;
        Libc.Unmount(path, Libc.MNT_DETACH);
    }
}
