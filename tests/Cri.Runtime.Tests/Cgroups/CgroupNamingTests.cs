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

    [Fact]
    public void Systemd_accepts_a_slice_cgroup_path_only_when_it_is_the_expansion_of_its_name()
    {
        var naming = CgroupNaming.For("systemd");
        Assert.Equal("kubepods-burstable-pod1.slice",
            naming.PodCgroupParent("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice", "1"));
        foreach (var bad in new[] { "/kubepods.slice/other-pod1.slice", "/", "/system.slice/kubepods.slice", "/kubepods.slice/../x.slice", "kubepods--x.slice" })
        {
            var e = Assert.Throws<RuntimeException>(() => naming.PodCgroupParent(bad, "1"));
            Assert.Equal(RuntimeErrorKind.InvalidArgument, e.Kind);
            Assert.Contains("linux.cgroup_parent", e.Message);
        }
    }

    [Fact]
    public void Systemd_names_direct_client_pods_from_their_uid_and_places_scopes_like_runc()
    {
        var naming = CgroupNaming.For("systemd");
        Assert.Equal(@"crisp-poduid_with\x20space.slice", naming.PodCgroupParent("", "uid-with space"));
        var uid = Assert.Throws<RuntimeException>(() => naming.PodCgroupParent("", new string('u', 250)));
        Assert.Contains("config.metadata.uid", uid.Message);
        // runc: an empty slice means system.slice; a name that is a slice is used as is; the root slice has no dir.
        Assert.Equal("/system.slice/crisp-c1.scope", naming.FilesystemPath(":crisp:c1"));
        Assert.Equal("/a.slice/a-b.slice", naming.FilesystemPath("a.slice:crisp:a-b.slice"));
        Assert.Equal("/crisp-c1.scope", naming.FilesystemPath("-.slice:crisp:c1"));
        Assert.Equal("/crisp.slice/crisp-poduid.slice/crisp-c1.scope",
            naming.FilesystemPath(naming.ContainerCgroupsPath(naming.PodCgroupParent("", "uid"), "c1")));
    }

    [Fact]
    public async Task Systemd_stats_are_read_from_the_scope_below_the_expanded_slices()
    {
        var root = Directory.CreateTempSubdirectory("crisp-sd-tree-").FullName;
        try
        {
            var manager = new CgroupV2Manager(CgroupNaming.For("systemd"), root);
            var pod = manager.PodCgroupParent("kubepods-burstable-pod1.slice", "1");
            var container = manager.ContainerCgroupsPath(pod, "c1");
            var podDir = Path.Combine(root, "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice");
            WriteStats(podDir, usageUsec: 9, memory: 9000);
            WriteStats(Path.Combine(podDir, "crisp-c1.scope"), usageUsec: 5, memory: 4096);

            var stats = await manager.ReadStatsAsync(container, CancellationToken.None);
            Assert.Equal(5000UL, stats!.CpuUsageCoreNanoSeconds);
            Assert.Equal(4096UL, stats.MemoryUsageBytes);
            Assert.Equal(9000UL, (await manager.ReadStatsAsync(pod, CancellationToken.None))!.MemoryUsageBytes);
            Assert.Null(await manager.ReadStatsAsync(manager.ContainerCgroupsPath(pod, "gone"), CancellationToken.None));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static void WriteStats(string dir, ulong usageUsec, ulong memory)
    {
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "cpu.stat"), $"usage_usec {usageUsec}\nuser_usec 0\nsystem_usec 0\n");
        File.WriteAllText(Path.Combine(dir, "memory.current"), $"{memory}\n");
        File.WriteAllText(Path.Combine(dir, "memory.stat"), "anon 0\ninactive_file 0\n");
        File.WriteAllText(Path.Combine(dir, "memory.max"), "max\n");
    }
}
