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
    public void TheMountpointOfRootIsSlashOrAMountAbove()
    {
        string mountpoint = SnapshotUsage.MountpointOf(_root);
        Assert.True(mountpoint == "/" || _root.StartsWith(mountpoint + "/", StringComparison.Ordinal), mountpoint);
        Assert.Equal("/proc", SnapshotUsage.MountpointOf("/proc/self"));
    }
}
