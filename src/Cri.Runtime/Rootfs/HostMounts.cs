using Crisp.Interop;
using Crisp.Runtime.Sandboxes;

namespace Crisp.Runtime.Rootfs;

/// <summary>The host's real mounts: overlayfs rootfs, shm tmpfs, idmapped clones, and the mount points below crisp's directories.</summary>
public sealed class HostMounts : IRuntimeMounts
{
    public async Task MountRootfsAsync(
        IReadOnlyList<string> lowerDirsLowestFirst, string upperDir, string workDir, string target, RootfsIdmap? idmap, CancellationToken ct) =>
        await OverlayRootfs.MountAsync(lowerDirsLowestFirst, upperDir, workDir, target, idmap, ct);

    public Task MountImageVolumeAsync(
        IReadOnlyList<string> lowerDirsLowestFirst, string emptyDir, string target, string? userNamespacePath, CancellationToken ct) =>
        OverlayRootfs.MountReadOnlyAsync(lowerDirsLowestFirst, emptyDir, target, userNamespacePath, ct);

    public void MountIdmapped(string source, string target, string userNamespacePath)
    {
        OwnedDirectory.Ensure(Path.GetDirectoryName(target)!);
        if (Directory.Exists(source)) OwnedDirectory.Ensure(target);
        else OwnedFile.Open(target, new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.Write }, FileModes.PrivateFile).Dispose();
        using var userNamespace = File.OpenHandle(userNamespacePath);
        Libc.MountIdmapped(source, target, userNamespace);
    }

    public void UnmountAllUnder(string directory)
    {
        foreach (var mountPoint in MountPoints.Under(directory))
            while (Libc.Unmount(mountPoint, Libc.MNT_DETACH | Libc.UMOUNT_NOFOLLOW)) { }
    }

    // umount2 itself says "not mounted" (EINVAL/ENOENT): no read of the whole mount table, whose size grows with
    // every container on the node.
    public Task UnmountRootfsAsync(string target, CancellationToken ct) => OverlayRootfs.UnmountAsync(target, ct);

    public void MountShm(string path, string? selinuxMountLabel) => PodShm.Mount(path, selinuxMountLabel);

    public void UnmountShm(string path) => PodShm.Unmount(path);

    public bool IsMountPoint(string path) => MountPoints.IsMountPoint(path);

    public IReadOnlyList<string> MountsUnder(params string[] directories) => MountPoints.Under(directories);
}
