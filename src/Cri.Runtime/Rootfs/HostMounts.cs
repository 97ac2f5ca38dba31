using Crisp.Interop.Procfs;
using Crisp.Runtime.Sandboxes;

namespace Crisp.Runtime.Rootfs;

/// <summary>The host's real mounts: overlayfs rootfs, shm tmpfs and /proc/self/mountinfo.</summary>
public sealed class HostMounts : IRuntimeMounts
{
    public async Task MountRootfsAsync(IReadOnlyList<string> lowerDirsLowestFirst, string upperDir, string workDir, string target, CancellationToken ct) =>
        await OverlayRootfs.MountAsync(lowerDirsLowestFirst, upperDir, workDir, target, ct);

    // umount2 itself says "not mounted" (EINVAL/ENOENT): no read of the whole mount table, whose size grows with
    // every container on the node.
    public Task UnmountRootfsAsync(string target, CancellationToken ct) => OverlayRootfs.UnmountAsync(target, ct);

    public void MountShm(string path, string? selinuxMountLabel) => PodShm.Mount(path, selinuxMountLabel);

    public void UnmountShm(string path) => PodShm.Unmount(path);

    public bool IsMountPoint(string path) => MountTable.ReadSelf().IsMountPoint(path);

    public IReadOnlyList<string> MountsUnder(params string[] directories)
    {
        var table = MountTable.ReadSelf();
        return directories.SelectMany(table.MountPointsUnder).Distinct(StringComparer.Ordinal).OrderByDescending(m => m.Length).ToList();
    }
}
