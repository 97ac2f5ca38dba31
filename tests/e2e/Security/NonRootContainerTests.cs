using Crisp.Cri.V1;
using Crisp.E2E.Fixtures;
using Crisp.E2E.Runtime;
using Xunit;

namespace Crisp.E2E.Security;

/// <summary>Closing crisp's directories must not close what a non-root container process needs after pivot_root.</summary>
public sealed class NonRootContainerTests
{
    [Fact]
    public async Task A_non_root_container_reads_its_etc_files_and_mounts_and_writes_its_tmp_and_shm()
    {
        await using var crisp = await OpenParentDaemon.StartAsync();
        var reference = await crisp.PullAsync(TestImageNames.Busybox);
        var volume = Path.Combine(crisp.Daemon.BaseDirectory, "volume");
        Directory.CreateDirectory(volume);
        File.SetUnixFileMode(volume, (UnixFileMode)0b111_101_101);
        await File.WriteAllTextAsync(Path.Combine(volume, "file"), "volume content\n");
        File.SetUnixFileMode(Path.Combine(volume, "file"), (UnixFileMode)0b110_100_100);

        var (podId, pod) = await crisp.Pods.RunPodAsync("nonroot", p =>
            p.DnsConfig = new DNSConfig { Servers = { "10.96.0.10" }, Searches = { "e2e.svc.cluster.local" } });
        // The mount destination is missing from the image: runc creates /deep/new/mount, which uid 1000 must traverse.
        var config = crisp.Container("reader", reference, "sh", "-c",
            "id -u; cat /etc/resolv.conf /etc/hosts /etc/hostname && echo tmp-ok > /tmp/probe && cat /tmp/probe" +
            " && echo shm-ok > /dev/shm/probe && cat /dev/shm/probe && cat /deep/new/mount/file");
        config.Mounts.Add(new Mount { ContainerPath = "/deep/new/mount", HostPath = volume, Readonly = true });
        config.Linux = new LinuxContainerConfig
        {
            SecurityContext = new LinuxContainerSecurityContext { RunAsUser = new Int64Value { Value = 1000 }, RunAsGroup = new Int64Value { Value = 1000 } },
        };
        var containerId = await crisp.Pods.CreateAsync(podId, pod, config);
        await crisp.Daemon.Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = containerId });
        var status = await crisp.Pods.WaitForExitAsync(containerId);
        var log = await PodHelper.ReadLogAsync(status.LogPath);
        var stdout = PodHelper.LogText(log);
        var stderr = PodHelper.LogText(log, "stderr");

        Assert.True(status.ExitCode == 0, $"exit {status.ExitCode}; stdout:\n{stdout}\nstderr:\n{stderr}");
        Assert.StartsWith("1000\n", stdout);
        Assert.Contains("nameserver 10.96.0.10", stdout);
        Assert.Contains("search e2e.svc.cluster.local", stdout);
        Assert.Contains("127.0.0.1\tlocalhost", stdout);
        Assert.Contains("\nnonroot\n", stdout);
        Assert.Contains("tmp-ok", stdout);
        Assert.Contains("shm-ok", stdout);
        Assert.EndsWith("volume content", stdout);
    }
}
