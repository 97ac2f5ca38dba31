using System.Diagnostics;
using Crisp.Cri.V1;
using Crisp.Runtime.Cgroups;
using Crisp.Runtime.Host;
using Xunit;

namespace Crisp.Runtime.IntegrationTests.Cgroups;

/// <summary>Creates, fills, measures and removes a real pod cgroup on this host (v1 or v2, whichever it has).</summary>
public sealed class CgroupManagerHostTests
{
    [Fact]
    public async Task Pod_cgroup_lifecycle_with_limits_and_stats()
    {
        var host = HostFeatureDetector.Detect();
        var manager = CgroupManagerFactory.Create(host, "cgroupfs");
        var uid = Guid.NewGuid().ToString("N")[..12];
        var parent = manager.PodCgroupParent("/crisp-cg-test/pod" + uid, uid);
        var container = manager.ContainerCgroupsPath(parent, "c1");

        await manager.EnsurePodCgroupAsync(parent, new LinuxContainerResources
        {
            CpuQuota = 50000,
            CpuPeriod = 100000,
            CpuShares = 512,
            MemoryLimitInBytes = 256L * 1024 * 1024,
        }, CancellationToken.None);
        // A child below the pod, as the runtime would create for a container.
        await manager.EnsurePodCgroupAsync(container, null, CancellationToken.None);

        // Allocates only after it has been moved into the cgroup: v1 does not move existing charges along.
        var worker = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        worker.ArgumentList.Add("-c");
        worker.ArgumentList.Add("sleep 0.3; x=$(head -c 4000000 /dev/zero | tr '\\0' a); while :; do sleep 1; done");
        using var sleeper = Process.Start(worker)!;
        try
        {
            if (manager.IsV2)
            {
                var dir = "/sys/fs/cgroup" + container;
                Assert.Equal("50000 100000", File.ReadAllText("/sys/fs/cgroup" + parent + "/cpu.max").Trim());
                Assert.Equal((256L * 1024 * 1024).ToString(), File.ReadAllText("/sys/fs/cgroup" + parent + "/memory.max").Trim());
                await File.WriteAllTextAsync(Path.Combine(dir, "cgroup.procs"), sleeper.Id.ToString());
            }
            else
            {
                Assert.Equal("50000", File.ReadAllText("/sys/fs/cgroup/cpu" + parent + "/cpu.cfs_quota_us").Trim());
                Assert.Equal("512", File.ReadAllText("/sys/fs/cgroup/cpu" + parent + "/cpu.shares").Trim());
                Assert.Equal((256L * 1024 * 1024).ToString(), File.ReadAllText("/sys/fs/cgroup/memory" + parent + "/memory.limit_in_bytes").Trim());
                // cpuset cgroups start empty; the manager must have copied cpus and mems down.
                Assert.NotEqual("", File.ReadAllText("/sys/fs/cgroup/cpuset" + container + "/cpuset.cpus").Trim());
                Assert.NotEqual("", File.ReadAllText("/sys/fs/cgroup/cpuset" + container + "/cpuset.mems").Trim());
                foreach (var controller in new[] { "cpu", "cpuacct", "cpuset", "memory", "pids" })
                    await File.WriteAllTextAsync($"/sys/fs/cgroup/{controller}{container}/cgroup.procs", sleeper.Id.ToString());
            }

            Crisp.Runtime.Api.CgroupStats? stats = null;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
            while (DateTime.UtcNow < deadline)
            {
                stats = await manager.ReadStatsAsync(container, CancellationToken.None);
                if (stats is { MemoryUsageBytes: > 1_000_000, CpuUsageCoreNanoSeconds: > 0 }) break;
                await Task.Delay(50);
            }
            Assert.NotNull(stats);
            Assert.InRange(stats.ProcessCount, 1UL, 5UL);
            Assert.True(stats.MemoryUsageBytes > 1_000_000, $"usage {stats.MemoryUsageBytes}");
            Assert.True(stats.CpuUsageCoreNanoSeconds > 0);
            Assert.True(stats.PageFaults > 0);
            Assert.True(stats.MemoryWorkingSetBytes <= stats.MemoryUsageBytes);
            Assert.False(stats.OomKilled);

            var podStats = await manager.ReadStatsAsync(parent, CancellationToken.None);
            Assert.NotNull(podStats);
            Assert.True(podStats.MemoryAvailableBytes > 0 && podStats.MemoryAvailableBytes <= 256UL * 1024 * 1024);

            // Pod-level updates write straight into the live cgroup.
            await manager.ApplyResourcesAsync(parent, new LinuxContainerResources { MemoryLimitInBytes = 128L * 1024 * 1024 }, CancellationToken.None);
            var limitFile = manager.IsV2 ? "/sys/fs/cgroup" + parent + "/memory.max" : "/sys/fs/cgroup/memory" + parent + "/memory.limit_in_bytes";
            Assert.Equal((128L * 1024 * 1024).ToString(), File.ReadAllText(limitFile).Trim());
        }
        finally
        {
            sleeper.Kill(entireProcessTree: true);
            await sleeper.WaitForExitAsync();
        }

        // Removing the pod removes the container cgroup under it too, in every hierarchy.
        await manager.RemoveAsync(parent, CancellationToken.None);
        await manager.RemoveAsync("/crisp-cg-test", CancellationToken.None);
        Assert.Null(await manager.ReadStatsAsync(container, CancellationToken.None));
        foreach (var root in Directory.EnumerateDirectories("/sys/fs/cgroup").Append("/sys/fs/cgroup"))
            Assert.False(Directory.Exists(root + parent), $"{root + parent} is left behind");
        // Absent is fine.
        await manager.RemoveAsync(parent, CancellationToken.None);
    }
}
