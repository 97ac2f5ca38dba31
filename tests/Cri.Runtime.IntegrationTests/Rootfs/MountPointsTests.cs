using Crisp.Interop;
using Crisp.Interop.Procfs;
using Crisp.Runtime.Rootfs;
using Xunit;

namespace Crisp.Runtime.IntegrationTests.Rootfs;

/// <summary>The statx walk that guards every container directory removal, against real tmpfs mounts (root).</summary>
public sealed class MountPointsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crisp-mountpoints-").FullName;
    private readonly List<string> _mounted = [];

    private string MountTmpfs(string path)
    {
        Directory.CreateDirectory(path);
        Libc.Mount("tmpfs", path, "tmpfs", 0, "size=1m");
        _mounted.Add(path);
        return path;
    }

    [Fact]
    public void Finds_the_outermost_mounts_below_a_directory_deepest_first_as_the_mount_table_has_them()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "plain", "deeper"));
        var outer = MountTmpfs(Path.Combine(_dir, "a", "b"));
        MountTmpfs(Path.Combine(outer, "inner"));
        var deep = MountTmpfs(Path.Combine(_dir, "c", "d", "e"));
        // A symlink out of the tree is not followed: its target's mounts are not below the directory.
        File.CreateSymbolicLink(Path.Combine(_dir, "link-to-proc"), "/proc");

        Assert.Equal([deep, outer], MountPoints.Under(_dir));
        Assert.Equal([outer], MountPoints.Under(Path.Combine(_dir, "a"), Path.Combine(_dir, "plain")));
        Assert.Equal([outer], MountPoints.Under(outer + "/"));
        var table = MountTable.ReadSelf();
        Assert.All(MountPoints.Under(_dir), m => Assert.True(table.IsMountPoint(m)));
        Assert.True(MountPoints.IsMountPoint(outer));
        Assert.False(MountPoints.IsMountPoint(Path.Combine(_dir, "a")));
    }

    [Fact]
    public void A_directory_without_mounts_or_that_does_not_exist_has_none()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "x", "y"));
        Assert.Empty(MountPoints.Under(_dir));
        Assert.Empty(MountPoints.Under(Path.Combine(_dir, "absent")));
        Assert.False(MountPoints.IsMountPoint(Path.Combine(_dir, "absent")));
    }

    [Fact]
    public void Host_mounts_detach_everything_below_a_directory()
    {
        var outer = MountTmpfs(Path.Combine(_dir, "idmapped", "one"));
        MountTmpfs(Path.Combine(outer, "inner"));
        MountTmpfs(Path.Combine(_dir, "idmapped", "two"));
        var mounts = new HostMounts();

        mounts.UnmountAllUnder(Path.Combine(_dir, "idmapped"));

        Assert.Empty(MountTable.ReadSelf().MountPointsUnder(_dir));
        Assert.Empty(mounts.MountsUnder(_dir));
    }

    public void Dispose()
    {
        foreach (var path in Enumerable.Reverse(_mounted)) Libc.Unmount(path, Libc.MNT_DETACH);
        Directory.Delete(_dir, recursive: true);
    }
}
