using System.Diagnostics;
using Crisp.Cri.V1;
using Crisp.Runtime.Cgroups;
using Crisp.Runtime.Host;
using Xunit;

namespace Crisp.Runtime.IntegrationTests.Cgroups;

/// <summary>
/// The v2 manager against a real cgroup2 mount: the host's own tree on a unified host, or the hybrid layout's
/// /sys/fs/cgroup/unified (few controllers there, but cgroup.procs, cpu.stat and the tree rules are real).
/// </summary>
public sealed class CgroupV2ManagerTests
{
    [SkippableFact]
    public async Task Creates_measures_and_removes_on_a_real_cgroup2_mount()
    {
        var layout = CgroupLayoutDetector.Detect();
        var root = layout switch
        {
            CgroupLayout.Unified => "/sys/fs/cgroup",
            CgroupLayout.Hybrid => "/sys/fs/cgroup/unified",
            _ => null,
        };
        Skip.If(root is null, "this host mounts only cgroup v1 (no cgroup2 mount to test against)");
        var manager = new CgroupV2Manager(CgroupNaming.For("cgroupfs"), root!);
        var parent = "/crisp-v2-test/pod" + Guid.NewGuid().ToString("N")[..10];
        var container = manager.ContainerCgroupsPath(parent, "c1");
        await manager.EnsurePodCgroupAsync(parent, CancellationToken.None);
        // The pod delegates its controllers; the container's leaf is created by the runtime, as here.
        Assert.Equal(
            File.ReadAllText(root + parent + "/cgroup.controllers").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Order(),
            File.ReadAllText(root + parent + "/cgroup.subtree_control").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Order());
        Directory.CreateDirectory(root + container);

        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("sleep 0.2; i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; sleep 30");
        using var worker = Process.Start(psi)!;
        try
        {
            await File.WriteAllTextAsync(root + container + "/cgroup.procs", worker.Id.ToString());
            Crisp.Runtime.Api.CgroupStats? stats = null;
            // A loaded CI machine may not schedule the worker for seconds (usage_usec was still 0 after 10 s at load 100).
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (DateTime.UtcNow < deadline)
            {
                stats = await manager.ReadStatsAsync(container, CancellationToken.None);
                if (stats is { CpuUsageCoreNanoSeconds: > 10_000_000 }) break;
                await Task.Delay(50);
            }
            Assert.NotNull(stats);
            Assert.True(stats.CpuUsageCoreNanoSeconds > 10_000_000,
                $"cpu {stats.CpuUsageCoreNanoSeconds}; cgroup.procs [{ReadOrMissing(root + container + "/cgroup.procs")}]; " +
                $"cpu.stat [{ReadOrMissing(root + container + "/cpu.stat")}]; worker {(worker.HasExited ? $"exited {worker.ExitCode}" : "running")}");
            var pod = await manager.ReadStatsAsync(parent, CancellationToken.None);
            Assert.True(pod!.CpuUsageCoreNanoSeconds >= stats.CpuUsageCoreNanoSeconds);
        }
        finally
        {
            worker.Kill(entireProcessTree: true);
            await worker.WaitForExitAsync();
        }
        await manager.RemoveAsync("/crisp-v2-test", CancellationToken.None);
        Assert.False(Directory.Exists(root + "/crisp-v2-test"));
        Assert.Null(await manager.ReadStatsAsync(container, CancellationToken.None));
    }

    private static string ReadOrMissing(string path) => File.Exists(path) ? File.ReadAllText(path).Trim() : "missing";
}
