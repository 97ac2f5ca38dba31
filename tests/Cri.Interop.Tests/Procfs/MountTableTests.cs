using Crisp.Interop.Procfs;
using Xunit;

namespace Crisp.Interop.Tests.Procfs;

public sealed class MountTableTests
{
    private static readonly MountTable Table = MountTable.Parse(
    [
        "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw",
        "30 22 0:25 / /run rw,nosuid shared:5 - tmpfs tmpfs rw",
        "40 30 0:26 / /run/crisp/ns/pod\\040a/net rw shared:8 - nsfs nsfs rw",
        "41 30 0:27 / /run/crisp/ns/pod\\040a/ipc rw shared:9 - nsfs nsfs rw",
        "42 30 0:28 / /run/crisp/ns/pod\\040ab/net rw shared:10 - nsfs nsfs rw",
        "50 30 0:29 / /run/stacked rw - tmpfs first rw",
        "51 50 0:30 / /run/stacked rw - tmpfs second rw",
    ]);

    [Theory]
    [InlineData("/run/crisp/ns/pod a/net", true)]
    [InlineData("/run/crisp/ns/pod a/net/", true)]
    [InlineData("/run/crisp/ns/pod a/../pod a/net", true)]
    [InlineData("/run/crisp/ns/pod a", false)]
    [InlineData("/run/crisp/ns/pod\\040a/net", false)]
    [InlineData("/", true)]
    public void Is_mount_point_compares_normalised_decoded_paths(string path, bool expected) =>
        Assert.Equal(expected, Table.IsMountPoint(path));

    [Fact]
    public void Mount_points_under_a_directory_are_deepest_first_and_stop_at_name_boundaries() =>
        Assert.Equal(["/run/crisp/ns/pod a/ipc", "/run/crisp/ns/pod a/net"], Table.MountPointsUnder("/run/crisp/ns/pod a"));

    [Fact]
    public void Mount_points_under_a_mount_point_include_it_once()
    {
        Assert.Equal(["/run/stacked"], Table.MountPointsUnder("/run/stacked/"));
        Assert.Equal(6, Table.MountPointsUnder("/").Count); // seven mounts, /run/stacked listed once
    }

    [Theory]
    [InlineData("/srv/data", "/")]
    [InlineData("/run", "/run")]
    [InlineData("/runner", "/")]
    [InlineData("/run/crisp/ns/pod ab/net", "/run/crisp/ns/pod ab/net")]
    [InlineData("/run/crisp/ns/pod a/net/..", "/run")]
    public void The_containing_mount_is_the_deepest_mount_point_at_or_above_the_path(string path, string mountPoint) =>
        Assert.Equal(mountPoint, Table.MountContaining(path)?.MountPoint);

    [Fact]
    public void The_topmost_of_stacked_mounts_contains_the_path() =>
        Assert.Equal("second", Table.MountContaining("/run/stacked/file")?.Source);

    [Fact]
    public void Without_a_containing_mount_there_is_none() =>
        Assert.Null(MountTable.Parse(["30 22 0:25 / /run rw - tmpfs tmpfs rw"]).MountContaining("/srv"));

    [Fact]
    public void Reads_this_processes_mount_table()
    {
        // Other processes on the host (parallel tests, containers) mount and unmount meanwhile: compare the parse with
        // a raw read only when the raw table was the same just before and just after it.
        MountTable? self = null;
        string[] before = [], after = [];
        for (var attempt = 0; attempt < 20 && (self is null || !before.SequenceEqual(after)); attempt++)
        {
            before = File.ReadAllLines(ProcFile.SelfMountInfo);
            self = MountTable.ReadSelf();
            after = File.ReadAllLines(ProcFile.SelfMountInfo);
        }
        Assert.True(before.SequenceEqual(after), "the mount table changed during each of 20 reads");

        Assert.Equal(before.Length, self!.Mounts.Count);
        Assert.True(self.IsMountPoint("/"));
        Assert.True(self.IsMountPoint("/proc"));
        Assert.Equal("proc", self.MountContaining("/proc/self/stat")?.FilesystemType);
    }
}
