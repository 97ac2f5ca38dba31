using System.Diagnostics;
using System.Text.Json;
using Crisp.Cri.V1;
using Crisp.E2E.Fixtures;
using Xunit;

namespace Crisp.E2E.Runtime;

/// <summary>What the kubelet's summary API reads: swap, pressure, exact CPU, pod network with no container running.</summary>
[Collection(RuntimeCollection.Name)]
public sealed class StatsSummaryTests(RuntimeFixture fixture)
{
    private PodHelper Pods => fixture.Pods;

    [Fact]
    public async Task Swap_pressure_and_exact_cpu_are_reported_as_the_host_has_them()
    {
        var (podId, pod) = await Pods.RunPodAsync("summary");
        var id = await Pods.StartAsync(podId, pod, "burner", TestImageNames.Busybox, ["dd", "if=/dev/zero", "of=/dev/null", "bs=64k"]);
        var cgroupsPath = await CgroupsPathAsync(id);
        await Task.Delay(500);
        var first = (await fixture.Runtime.ContainerStatsAsync(new ContainerStatsRequest { ContainerId = id })).Stats;
        await Task.Delay(700);
        var second = (await fixture.Runtime.ContainerStatsAsync(new ContainerStatsRequest { ContainerId = id })).Stats;

        // The exact counter, not whole seconds: two samples of a busy container are not both multiples of a second,
        // and on v1 (cpuacct.usage, nanoseconds) not both multiples of a microsecond either.
        var precision = HostCgroups.IsV2 ? 1_000_000_000UL : 1_000UL;
        Assert.False(first.Cpu.UsageCoreNanoSeconds.Value % precision == 0 && second.Cpu.UsageCoreNanoSeconds.Value % precision == 0,
            $"cpu usage {first.Cpu.UsageCoreNanoSeconds.Value} and {second.Cpu.UsageCoreNanoSeconds.Value} look rounded");
        Assert.InRange(second.Cpu.UsageNanoCores.Value, 1UL, (ulong)HostCpus.Count * 1_050_000_000UL);

        Assert.Equal(HostCgroups.HasSwapAccounting(cgroupsPath), second.Swap is not null);
        if (second.Swap is not null)
        {
            Assert.NotNull(second.Swap.SwapUsageBytes);
            Assert.NotNull(second.Swap.SwapAvailableBytes);
        }

        var pressureDir = HostCgroups.PressureRoot is { } root ? Path.Combine(root, cgroupsPath.TrimStart('/')) : null;
        var hasPressure = pressureDir is not null && File.Exists(Path.Combine(pressureDir, "cpu.pressure"));
        Assert.Equal(hasPressure, second.Cpu.Psi is not null);
        Assert.Equal(hasPressure, second.Memory.Psi is not null);
        Assert.Equal(hasPressure, second.Io?.Psi is not null);
        if (hasPressure) Assert.NotNull(second.Cpu.Psi!.Some);

        var podStats = (await fixture.Runtime.PodSandboxStatsAsync(new PodSandboxStatsRequest { PodSandboxId = podId })).Stats;
        Assert.True(podStats.Linux.Cpu.UsageCoreNanoSeconds.Value >= second.Cpu.UsageCoreNanoSeconds.Value);

        await fixture.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId });
        await fixture.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId });
    }

    [Fact]
    public async Task A_writable_layer_of_100k_files_is_measured_in_the_background()
    {
        const int files = 100_000;
        var (podId, pod) = await Pods.RunPodAsync("manyfiles");
        var id = await Pods.StartAsync(podId, pod, "writer", TestImageNames.Busybox,
            ["sh", "-c", $"mkdir /many && cd /many && seq 1 {files} | xargs touch && echo 12345678 > /many/sized && touch /done && sleep 300"]);

        // What the walk must find: the 100,000 empty files, /many/sized (9 bytes), /many and /done (a few entries the
        // runtime adds to the upper dir, such as mount points, may come on top).
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        FilesystemUsage? layer = null;
        while (DateTime.UtcNow < deadline)
        {
            layer = (await fixture.Runtime.ContainerStatsAsync(new ContainerStatsRequest { ContainerId = id })).Stats.WritableLayer;
            if (layer is { InodesUsed.Value: >= files + 3 }) break;
            await Task.Delay(500);
        }
        Assert.NotNull(layer);
        Assert.InRange(layer.InodesUsed.Value, (ulong)files + 3, (ulong)files + 20);
        Assert.InRange(layer.UsedBytes.Value, 9UL, 64UL * 1024);

        await fixture.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId });
        await fixture.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId });
    }

    [Fact]
    public async Task Pod_network_stats_come_from_the_pod_namespace_while_no_container_runs()
    {
        var (podId, pod) = await Pods.RunPodAsync("netstats");
        var netns = await NetworkNamespaceAsync(podId);
        // The e2e CNI network is loopback only; give the pod an eth0 whose peer lives in a namespace of the test's own.
        using var peerNamespace = Process.Start(new ProcessStartInfo("unshare", ["--net", "sleep", "120"]) { UseShellExecute = false })!;
        try
        {
            // unshare's pid is in the host's namespace until it has called unshare(2): moving the peer there too early
            // would put it on the host. Wait for the process to own its namespace.
            var hostNet = File.ResolveLinkTarget("/proc/self/ns/net", false)!.ToString();
            for (var i = 0; i < 500 && File.ResolveLinkTarget($"/proc/{peerNamespace.Id}/ns/net", false)?.ToString() == hostNet; i++)
                await Task.Delay(10);
            Assert.NotEqual(hostNet, File.ResolveLinkTarget($"/proc/{peerNamespace.Id}/ns/net", false)?.ToString());
            var peer = "crispp" + Guid.NewGuid().ToString("N")[..8];
            await ToolRunner.RunCheckedAsync("nsenter", [$"--net={netns}", "ip", "link", "add", "eth0", "type", "veth", "peer", "name", peer]);
            await ToolRunner.RunCheckedAsync("nsenter", [$"--net={netns}", "ip", "link", "set", peer, "netns", peerNamespace.Id.ToString()]);
            await ToolRunner.RunCheckedAsync("nsenter", [$"--net={netns}", "ip", "addr", "add", "169.254.77.1/30", "dev", "eth0"]);
            await ToolRunner.RunCheckedAsync("nsenter", [$"--net={netns}", "ip", "link", "set", "eth0", "up"]);
            await ToolRunner.RunCheckedAsync("nsenter", [$"--target={peerNamespace.Id}", "--net", "ip", "addr", "add", "169.254.77.2/30", "dev", peer]);
            await ToolRunner.RunCheckedAsync("nsenter", [$"--target={peerNamespace.Id}", "--net", "ip", "link", "set", peer, "up"]);
            var before = await DefaultInterfaceAsync(podId);

            var (status, stdout, _) = await Pods.RunToExitAsync(podId, pod, "pinger", TestImageNames.Busybox, ["ping", "-c", "3", "-W", "2", "169.254.77.2"]);
            Assert.True(status.ExitCode == 0, $"ping failed: {stdout}");

            // The pinger has exited: no container of the pod runs, and the counters are still there and grew.
            var stats = (await fixture.Runtime.PodSandboxStatsAsync(new PodSandboxStatsRequest { PodSandboxId = podId })).Stats;
            Assert.Empty(stats.Linux.Containers);
            var after = stats.Linux.Network.DefaultInterface;
            Assert.Equal("eth0", after.Name);
            Assert.True(after.RxBytes.Value >= before.RxBytes.Value + 3 * 84, $"rx {before.RxBytes.Value} → {after.RxBytes.Value}");
            Assert.True(after.TxBytes.Value >= before.TxBytes.Value + 3 * 84, $"tx {before.TxBytes.Value} → {after.TxBytes.Value}");
            Assert.DoesNotContain(stats.Linux.Network.Interfaces, i => i.Name == "lo");
        }
        finally
        {
            peerNamespace.Kill();
            await peerNamespace.WaitForExitAsync();
            await fixture.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId });
            await fixture.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId });
        }
    }

    [Fact]
    public async Task Host_network_pods_report_no_network_of_their_own()
    {
        var (podId, _) = await Pods.RunPodAsync("hostnetstats", p => p.Linux.SecurityContext.NamespaceOptions.Network = NamespaceMode.Node);
        var stats = (await fixture.Runtime.PodSandboxStatsAsync(new PodSandboxStatsRequest { PodSandboxId = podId })).Stats;
        Assert.Null(stats.Linux.Network);
        await fixture.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId });
        await fixture.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId });
    }

    private async Task<NetworkInterfaceUsage> DefaultInterfaceAsync(string podId) =>
        (await fixture.Runtime.PodSandboxStatsAsync(new PodSandboxStatsRequest { PodSandboxId = podId })).Stats.Linux.Network.DefaultInterface;

    private async Task<string> NetworkNamespaceAsync(string podId)
    {
        var status = await fixture.Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = podId, Verbose = true });
        using var info = JsonDocument.Parse(status.Info["info"]);
        return info.RootElement.GetProperty("namespaces").GetProperty("network").GetString()!;
    }

    private async Task<string> CgroupsPathAsync(string containerId)
    {
        var status = await fixture.Runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = containerId, Verbose = true });
        using var info = JsonDocument.Parse(status.Info["info"]);
        return info.RootElement.GetProperty("cgroupsPath").GetString()!;
    }
}
