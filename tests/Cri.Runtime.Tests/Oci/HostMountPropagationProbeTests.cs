using Crisp.Interop.Procfs;
using Crisp.Runtime.Oci;
using Xunit;

namespace Crisp.Runtime.Tests.Oci;

public sealed class HostMountPropagationProbeTests
{
    private static readonly MountTable Mounts = MountTable.Parse(
    [
        "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw",
        "30 22 0:25 / /var/lib/kubelet rw,relatime master:7 - tmpfs tmpfs rw",
        "31 22 0:26 / /mnt/private rw,relatime - tmpfs tmpfs rw",
        "32 22 0:27 / /mnt/with\\040space rw,relatime master:9 - tmpfs tmpfs rw",
        "33 22 0:28 / /mnt/both rw,relatime shared:4 master:2 - tmpfs tmpfs rw",
        "34 22 0:29 / /mnt/stacked rw,relatime shared:5 - tmpfs tmpfs rw",
        "35 34 0:30 / /mnt/stacked rw,relatime - tmpfs tmpfs rw",
    ]);

    [Theory]
    [InlineData("/srv/data", HostMountPropagation.Shared)]
    [InlineData("/var/lib/kubelet/pods/x", HostMountPropagation.Slave)]
    [InlineData("/mnt/private", HostMountPropagation.Private)]
    [InlineData("/mnt/private/sub", HostMountPropagation.Private)]
    [InlineData("/mnt/privateer", HostMountPropagation.Shared)]
    [InlineData("/mnt/with space/x", HostMountPropagation.Slave)]
    [InlineData("/mnt/both/x", HostMountPropagation.Shared)]
    [InlineData("/mnt/stacked/x", HostMountPropagation.Private)]
    public void LongestContainingMountPointDecides(string path, HostMountPropagation expected) =>
        Assert.Equal(expected, HostMountPropagationProbe.Of(path, Mounts));

    [Fact]
    public void NoContainingMountIsPrivate() =>
        Assert.Equal(HostMountPropagation.Private, HostMountPropagationProbe.Of("/srv", MountTable.Parse(["31 22 0:26 / /mnt rw - tmpfs tmpfs rw"])));
}
