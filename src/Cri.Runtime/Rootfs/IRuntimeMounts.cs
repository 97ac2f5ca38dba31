namespace Crisp.Runtime.Rootfs;

/// <summary>
/// The mounts the lifecycle makes (a container's overlay rootfs, a pod's /dev/shm) and the mount table that
/// guards every directory removal: nothing is ever deleted through a mount that is still there.
/// </summary>
public interface IRuntimeMounts
{
    /// <param name="lowerDirsLowestFirst">Image layer directories, base layer first.</param>
    /// <param name="idmap">For a pod with its own user namespace: idmapped layers and an upper dir owned by its root.</param>
    Task MountRootfsAsync(
        IReadOnlyList<string> lowerDirsLowestFirst, string upperDir, string workDir, string target, RootfsIdmap? idmap, CancellationToken ct);

    /// <summary>
    /// Mounts an image's layers alone, read-only, at <paramref name="target"/> (an image volume shared by the
    /// containers that mount that image). <paramref name="emptyDir"/> pads an image of fewer than two layers.
    /// With <paramref name="userNamespacePath"/> (a pod with its own user namespace) the layers are idmapped through it.
    /// </summary>
    Task MountImageVolumeAsync(
        IReadOnlyList<string> lowerDirsLowestFirst, string emptyDir, string target, string? userNamespacePath, CancellationToken ct);

    /// <summary>Unmounts a container rootfs; not mounted is success.</summary>
    Task UnmountRootfsAsync(string target, CancellationToken ct);

    /// <summary>
    /// Attaches at <paramref name="target"/> (created as a directory or file like the source) a clone of
    /// <paramref name="source"/> idmapped through the user namespace pinned at <paramref name="userNamespacePath"/>.
    /// </summary>
    void MountIdmapped(string source, string target, string userNamespacePath);

    /// <summary>Detaches every mount at or below <paramref name="directory"/>; none is success.</summary>
    void UnmountAllUnder(string directory);

    /// <summary>Mounts the pod's shm tmpfs (creating the directory); already mounted is success.</summary>
    void MountShm(string path, string? selinuxMountLabel);

    /// <summary>Unmounts the pod's shm; absent or not mounted is success.</summary>
    void UnmountShm(string path);

    bool IsMountPoint(string path);

    /// <summary>The outermost mount points at or below any of <paramref name="directories"/>, deepest first.</summary>
    IReadOnlyList<string> MountsUnder(params string[] directories);
}
