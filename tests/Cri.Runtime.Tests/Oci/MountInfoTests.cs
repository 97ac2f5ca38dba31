using Crisp.Runtime.Oci;
using Xunit;

namespace Crisp.Runtime.Tests.Oci;

public sealed class MountInfoTests
{
    private static readonly string[] Lines =
    [
        "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw",
        "30 22 0:25 / /var/lib/kubelet rw,relatime master:7 - tmpfs tmpfs rw",
        "31 22 0:26 / /mnt/private rw,relatime - tmpfs tmpfs rw",
        "32 22 0:27 / /mnt/with\\040space rw,relatime master:9 - tmpfs tmpfs rw",
    ];

    [Theory]
    [InlineData("/srv/data", HostMountPropagation.Shared)]
    [InlineData("/var/lib/kubelet/pods/x", HostMountPropagation.Slave)]
    [InlineData("/mnt/private", HostMountPropagation.Private)]
    [InlineData("/mnt/private/sub", HostMountPropagation.Private)]
    [InlineData("/mnt/privateer", HostMountPropagation.Shared)]
    [InlineData("/mnt/with space/x", HostMountPropagation.Slave)]
    public void LongestContainingMountPointDecides(string path, HostMountPropagation expected) =>
        Assert.Equal(expected, MountInfo.PropagationOf(path, Lines));
}
