using System.Diagnostics;
using Crisp.Runtime.Cgroups;
using Crisp.Runtime.Host;
using Xunit;

namespace Crisp.Runtime.IntegrationTests.Cgroups;

/// <summary>Creates, fills, measures and removes a real pod cgroup on this host (v1 or v2, whichever it has).</summary>
public sealed class CgroupManagerHostTests
{
    [Fact]
    public async Task Pod_cgroup_lifecycle_without_limits_and_stats()
    {
        var host = HostFeatureDetector.Detect();
        var manager = CgroupManagerFactory.Create(host, "cgroupfs");
        var uid = Guid.NewGuid().ToString("N")[..12];
        var parent = manager.PodCgroupParent("/crisp-cg-test/pod" + uid, uid);
        var container = manager.ContainerCgroupsPath(parent, "c1");

        await manager.EnsurePodCgroupAsync(parent, CancellationToken.None);
        // A child below the pod, as the runtime would create for a container.
        await manager.EnsurePodCgroupAsync(container, CancellationToken.None);
        var unified = manager.IsV2 ? null : CgroupLayoutDetector.Detect() == CgroupLayout.Hybrid ? "/sys/fs/cgroup/unified" : null;

        // Allocates only after it has been moved into the cgroup: v1 does not move existing charges along.
        var worker = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        worker.ArgumentList.Add("-c");
        worker.ArgumentList.Add("sleep 0.3; x=$(head -c 4000000 /dev/zero | tr '\\0' a); while :; do sleep 1; done");
        using var sleeper = Process.Start(worker)!;
        try
        {
            // crisp writes no limit on the pod; the container's limit is written here as the OCI runtime would.
            if (manager.IsV2)
            {
                var dir = "/sys/fs/cgroup" + container;
                Assert.Equal("max", File.ReadAllText("/sys/fs/cgroup" + parent + "/memory.max").Trim());
                Assert.Equal("max 100000", File.ReadAllText("/sys/fs/cgroup" + parent + "/cpu.max").Trim());
                await File.WriteAllTextAsync(Path.Combine(dir, "memory.max"), (256L * 1024 * 1024).ToString());
                await File.WriteAllTextAsync(Path.Combine(dir, "cgroup.procs"), sleeper.Id.ToString());
            }
            else
            {
                Assert.True(ulong.Parse(File.ReadAllText("/sys/fs/cgroup/memory" + parent + "/memory.limit_in_bytes").Trim()) >= 1UL << 62);
                Assert.Equal("-1", File.ReadAllText("/sys/fs/cgroup/cpu" + parent + "/cpu.cfs_quota_us").Trim());
                await File.WriteAllTextAsync("/sys/fs/cgroup/memory" + container + "/memory.limit_in_bytes", (256L * 1024 * 1024).ToString());
                // cpuset cgroups start empty; the manager must have copied cpus and mems down.
                Assert.NotEqual("", File.ReadAllText("/sys/fs/cgroup/cpuset" + container + "/cpuset.cpus").Trim());
                Assert.NotEqual("", File.ReadAllText("/sys/fs/cgroup/cpuset" + container + "/cpuset.mems").Trim());
                foreach (var controller in new[] { "cpu", "cpuacct", "cpuset", "memory", "pids", "blkio" })
                    await File.WriteAllTextAsync($"/sys/fs/cgroup/{controller}{container}/cgroup.procs", sleeper.Id.ToString());
                if (unified is not null) await File.WriteAllTextAsync(unified + container + "/cgroup.procs", sleeper.Id.ToString());
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

            Assert.True(stats.MemoryAvailableBytes > 0 && stats.MemoryAvailableBytes <= 256UL * 1024 * 1024);
            var podStats = await manager.ReadStatsAsync(parent, CancellationToken.None);
            Assert.NotNull(podStats);
            // Read a moment apart: the container's usage may move between the two reads (the kernel charges and
            // uncharges in per-CPU batches), so the pod's holds it within a slack of 1 MiB.
            Assert.True(podStats.MemoryUsageBytes + (1UL << 20) >= stats.MemoryUsageBytes,
                $"pod {podStats.MemoryUsageBytes} < container {stats.MemoryUsageBytes}");

            // Swap, io and pressure are there exactly when this host's cgroups have their files.
            var memoryDir = manager.IsV2 ? "/sys/fs/cgroup" + container : "/sys/fs/cgroup/memory" + container;
            Assert.Equal(File.Exists(Path.Combine(memoryDir, manager.IsV2 ? "memory.swap.current" : "memory.memsw.usage_in_bytes")), stats.Swap is not null);
            var ioDir = manager.IsV2 ? "/sys/fs/cgroup" + container : "/sys/fs/cgroup/blkio" + container;
            Assert.Equal(File.Exists(Path.Combine(ioDir, manager.IsV2 ? "io.stat" : "blkio.throttle.io_service_bytes_recursive")), stats.Io is not null);
            var pressureDir = manager.IsV2 ? "/sys/fs/cgroup" + container : unified is null ? null : unified + container;
            var hasPressure = pressureDir is not null && File.Exists(Path.Combine(pressureDir, "cpu.pressure"));
            Assert.Equal(hasPressure, stats.CpuPressure is not null);
            Assert.Equal(hasPressure, stats.MemoryPressure is not null);
            if (hasPressure) Assert.NotNull(stats.CpuPressure!.Some);
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
