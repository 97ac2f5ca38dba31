using Crisp.ImageService.Snapshots;
using Xunit;

namespace Crisp.ImageService.Tests.Snapshots;

public sealed class SnapshotUsageTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("crisp-usage-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task CountsInodesAndBlocksOnceForHardLinksAndNeverThroughSymlinks()
    {
        string snapshots = Path.Combine(_root, "snapshots");
        string fs = Path.Combine(snapshots, "s1", "fs");
        Directory.CreateDirectory(fs);
        await File.WriteAllBytesAsync(Path.Combine(fs, "data"), new byte[64 * 1024]);
        File.CreateSymbolicLink(Path.Combine(fs, "loop"), "..");
        File.CreateSymbolicLink(Path.Combine(fs, "root"), "/");
        Crisp.Interop.Libc.HardLink(Path.Combine(fs, "data"), Path.Combine(fs, "data-link"));

        var usage = await new SnapshotUsage(snapshots, _root).GetAsync(CancellationToken.None);

        // s1, fs, data (once for both names), loop, root
        Assert.Equal(5ul, usage.InodesUsed);
        Assert.InRange(usage.UsedBytes, 64ul * 1024, 64ul * 1024 + 5 * 64 * 1024);
        Assert.Equal(SnapshotUsage.MountpointOf(_root), usage.Mountpoint);
    }

    [Fact]
    public async Task InvalidateForcesAFreshWalk()
    {
        string snapshots = Path.Combine(_root, "snapshots");
        Directory.CreateDirectory(snapshots);
        var usage = new SnapshotUsage(snapshots, _root);
        Assert.Equal(0ul, (await usage.GetAsync(CancellationToken.None)).InodesUsed);

        await File.WriteAllTextAsync(Path.Combine(snapshots, "f"), "x");
        Assert.Equal(0ul, (await usage.GetAsync(CancellationToken.None)).InodesUsed); // cached
        usage.Invalidate();

        Assert.Equal(1ul, (await usage.GetAsync(CancellationToken.None)).InodesUsed);
    }

    [Fact]
    public async Task ContainerUsageCountsOnlyUpperDirectoriesNotTheMergedRootfs()
    {
        string containers = Path.Combine(_root, "containers");
        Directory.CreateDirectory(Path.Combine(containers, "c1", "upper", "etc"));
        await File.WriteAllBytesAsync(Path.Combine(containers, "c1", "upper", "etc", "written"), new byte[16 * 1024]);
        Directory.CreateDirectory(Path.Combine(containers, "c1", "rootfs"));
        await File.WriteAllBytesAsync(Path.Combine(containers, "c1", "rootfs", "image-file"), new byte[256 * 1024]);
        Directory.CreateDirectory(Path.Combine(containers, "c2")); // created, no writable layer yet

        var usage = await SnapshotUsage.ForContainerUpperDirs(containers).GetAsync(CancellationToken.None);

        Assert.Equal(2ul, usage.InodesUsed); // etc, written
        Assert.InRange(usage.UsedBytes, 16ul * 1024, 128ul * 1024);
        Assert.Equal(SnapshotUsage.MountpointOf(containers), usage.Mountpoint);
    }

    [Fact]
    public async Task ContainerUsageOfAMissingDirectoryIsZero()
    {
        var usage = await SnapshotUsage.ForContainerUpperDirs(Path.Combine(_root, "no-containers-yet")).GetAsync(CancellationToken.None);

        Assert.Equal(0ul, usage.InodesUsed);
        Assert.Equal(0ul, usage.UsedBytes);
        Assert.Equal(SnapshotUsage.MountpointOf(_root), usage.Mountpoint);
    }

    [Fact]
    public void TheMountpointOfRootIsSlashOrAMountAbove()
    {
        string mountpoint = SnapshotUsage.MountpointOf(_root);
        Assert.True(mountpoint == "/" || _root.StartsWith(mountpoint + "/", StringComparison.Ordinal), mountpoint);
        Assert.Equal("/proc", SnapshotUsage.MountpointOf("/proc/self"));
    }
}
