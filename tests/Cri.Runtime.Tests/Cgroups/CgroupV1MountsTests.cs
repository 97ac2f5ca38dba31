using Crisp.Interop.Procfs;
using Crisp.Runtime.Cgroups;
using Xunit;

namespace Crisp.Runtime.Tests.Cgroups;

public sealed class CgroupV1MountsTests
{
    [Fact]
    public void Hybrid_host_controllers_named_hierarchies_and_the_cgroup2_root()
    {
        var mounts = MountTable.Parse(
        [
            "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
            "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct",
            "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
            "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd",
            "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate",
            "42 31 0:39 / /mnt/odd\\040cg\\011roup rw,relatime - cgroup cgroup rw,pids",
        ]).Mounts;

        var (controllers, roots, unified) = CgroupV1Mounts.FromMounts(mounts);

        Assert.Equal("/sys/fs/cgroup/cpu,cpuacct", controllers["cpu"]);
        Assert.Equal("/sys/fs/cgroup/cpu,cpuacct", controllers["cpuacct"]);
        Assert.Equal("/sys/fs/cgroup/memory", controllers["memory"]);
        Assert.Equal("/mnt/odd cg\troup", controllers["pids"]);
        Assert.Equal(4, controllers.Count);
        Assert.Equal(["/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified", "/mnt/odd cg\troup"], roots);
        Assert.Equal("/sys/fs/cgroup/unified", unified);
    }
}
