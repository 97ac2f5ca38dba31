using Crisp.Runtime.Api;
using Crisp.Runtime.Cgroups;
using Xunit;

namespace Crisp.Runtime.Tests.Cgroups;

public sealed class CgroupNamingTests
{
    [Fact]
    public void Cgroupfs_uses_the_kubelet_parent_and_nests_containers()
    {
        var naming = CgroupNaming.For("cgroupfs");
        Assert.Equal("/kubepods/burstable/podabc", naming.PodCgroupParent("/kubepods/burstable/podabc/", "abc"));
        Assert.Equal("/crisp/podabc", naming.PodCgroupParent("", "abc"));
        Assert.Equal("/kubepods/burstable/podabc/c1", naming.ContainerCgroupsPath("/kubepods/burstable/podabc", "c1"));
        Assert.Equal("/kubepods/burstable/podabc/c1", naming.FilesystemPath("/kubepods/burstable/podabc/c1"));
        var e = Assert.Throws<RuntimeException>(() => naming.PodCgroupParent("/kubepods/../etc", "abc"));
        Assert.Contains("cgroup_parent", e.Message);
    }

    [Fact]
    public void Systemd_uses_slices_and_runc_scope_syntax()
    {
        var naming = CgroupNaming.For("systemd");
        Assert.Equal("kubepods-burstable-pod12_34.slice", naming.PodCgroupParent("kubepods-burstable-pod12_34.slice", "12-34"));
        Assert.Equal("crisp-pod12_34.slice", naming.PodCgroupParent("", "12-34"));
        var container = naming.ContainerCgroupsPath("kubepods-burstable-pod12_34.slice", "c1");
        Assert.Equal("kubepods-burstable-pod12_34.slice:crisp:c1", container);
        Assert.Equal("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod12_34.slice/crisp-c1.scope", naming.FilesystemPath(container));
        Assert.Equal("/kubepods.slice/kubepods-burstable.slice", naming.FilesystemPath("kubepods-burstable.slice"));
        Assert.Throws<RuntimeException>(() => naming.PodCgroupParent("/kubepods/burstable", "x"));
        Assert.Throws<ArgumentException>(() => CgroupNaming.For("openrc"));
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(1024, 39)]
    [InlineData(262144, 10000)]
    public void Shares_map_onto_weights_like_runc(long shares, ulong weight) =>
        Assert.Equal(weight, ResourceConversions.SharesToWeight(shares));

    [Fact]
    public void Cpu_max_formats_quota_and_period()
    {
        Assert.Equal("50000 100000", ResourceConversions.CpuMax(50000, 100000));
        Assert.Equal("max 100000", ResourceConversions.CpuMax(-1, 0));
    }
}
