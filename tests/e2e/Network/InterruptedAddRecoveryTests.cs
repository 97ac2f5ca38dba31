using System.Diagnostics;
using Crisp.Cri.V1;
using Crisp.E2E.Daemon;
using Grpc.Core;
using Xunit;

namespace Crisp.E2E.Network;

/// <summary>crispd killed while a CNI plugin runs: the restart deletes the half-made network and forgets the sandbox.</summary>
[Collection(NetworkCollection.Name)]
public sealed class InterruptedAddRecoveryTests(NetworkFixture fixture)
{
    [Fact]
    public async Task Restart_after_kill_9_during_add_runs_del_with_the_cached_config_and_drops_the_sandbox()
    {
        var scratch = fixture.Scratch("interrupted-add");
        var dataDir = Path.Combine(scratch, "ipam");
        var marker = Path.Combine(scratch, "hang.pid");
        var plugins = new ScriptPlugins(Path.Combine(scratch, "bin"));
        var hang = plugins.WriteHanging("crisp-e2e-hang", marker);
        var portsBefore = await HostView.BridgePortsAsync();
        await using var net = await NetworkDaemon.StartAsync(new DaemonOptions
        {
            CniConfig = TestBridge.Conflist("crisp-e2e-interrupted", TestBridge.BridgePlugin(dataDir, new(200, 219)), TestBridge.Plugin(hang)),
            Flags = plugins.DaemonFlags,
        });

        var run = net.Pods.RunPodAsync("net-interrupted");
        await WaitForFileAsync(marker, run);
        var add = Assert.Single(plugins.Calls, c => c.StartsWith($"{hang} ADD crisp-e2e-interrupted ", StringComparison.Ordinal));
        var sandboxId = add.Split(' ')[3];
        // bridge already did its part: there is something for recovery to undo.
        Assert.Single(HostView.AllocationsOf(dataDir, sandboxId));
        Assert.True(File.Exists(Path.Combine(HostView.SandboxNamespaceDir(net.Daemon, sandboxId), "net")), "netns not pinned before ADD");

        await net.Daemon.KillAsync();
        await Assert.ThrowsAsync<RpcException>(() => run);
        KillHangingPlugin(int.Parse(File.ReadAllText(marker).Trim(), System.Globalization.CultureInfo.InvariantCulture));

        await net.Daemon.RestartAsync();
        // Recovery may finish after crispd starts serving: give it time to do all of it, then check each part.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (DateTime.UtcNow < deadline &&
               !(plugins.Calls.Contains($"{hang} DEL crisp-e2e-interrupted {sandboxId}")
                 && HostView.AllocationsOf(dataDir, sandboxId).Count == 0
                 && HostView.EntriesNaming(net.Daemon, sandboxId).Count == 0))
            await Task.Delay(100);

        Assert.Contains($"{hang} DEL crisp-e2e-interrupted {sandboxId}", plugins.Calls);
        Assert.DoesNotContain(sandboxId, (await net.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest())).Items.Select(p => p.Id));
        var status = await Assert.ThrowsAsync<RpcException>(() => net.Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = sandboxId }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, status.StatusCode);
        Assert.False(Directory.Exists(HostView.SandboxNamespaceDir(net.Daemon, sandboxId)), "netns dir of the interrupted sandbox left behind");
        Assert.Empty(HostView.AllocationsOf(dataDir, sandboxId));
        Assert.Empty(HostView.EntriesNaming(net.Daemon, sandboxId));
        Assert.Equal(portsBefore.Order(), (await HostView.BridgePortsAsync()).Order());
    }

    private static async Task WaitForFileAsync(string path, Task run)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!File.Exists(path))
        {
            // RunPodSandbox returning at all means the plugin never hung: let its outcome explain why.
            if (run.IsCompleted)
            {
                await run;
                throw new InvalidOperationException("RunPodSandbox succeeded although its CNI plugin never returned");
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the hanging plugin never wrote {path}");
            await Task.Delay(50);
        }
    }

    /// <summary>The plugin exec'd sleep in its own process: that pid, and only if it is still that sleep.</summary>
    private static void KillHangingPlugin(int pid)
    {
        try
        {
            var cmdline = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
            if (!cmdline.StartsWith("sleep 60", StringComparison.Ordinal)) return;
            using var process = Process.GetProcessById(pid);
            process.Kill();
        }
        catch (Exception e) when (e is IOException or ArgumentException or InvalidOperationException)
        {
            // Already gone.
        }
    }
}
