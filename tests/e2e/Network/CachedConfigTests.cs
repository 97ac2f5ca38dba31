using Crisp.Cri.V1;
using Crisp.E2E.Daemon;
using Xunit;

namespace Crisp.E2E.Network;

/// <summary>DEL is given the network config the pod was set up with, not whatever the conf dir holds at stop time.</summary>
[Collection(NetworkCollection.Name)]
public sealed class CachedConfigTests(NetworkFixture fixture)
{
    [Fact]
    public async Task Stop_runs_del_with_the_config_cached_at_add_even_after_the_conf_dir_changed()
    {
        var scratch = fixture.Scratch("cached-config");
        var dataDir = Path.Combine(scratch, "ipam");
        // Each network name has its own host-local files, so the two configs get disjoint ranges.
        var range = new TestBridge.AddressRange(180, 189);
        var replacedRange = new TestBridge.AddressRange(190, 199);
        var plugins = new ScriptPlugins(Path.Combine(scratch, "bin"));
        var logger = plugins.WritePassThrough("crisp-e2e-logger");
        string Config(string name, TestBridge.AddressRange r) => TestBridge.Conflist(name, TestBridge.BridgePlugin(dataDir, r), TestBridge.PortmapPlugin(), TestBridge.Plugin(logger));
        var portsBefore = await HostView.BridgePortsAsync();

        await using var net = await NetworkDaemon.StartAsync(new DaemonOptions { CniConfig = Config("crisp-e2e-original", range), Flags = plugins.DaemonFlags });
        var (original, _) = await net.Pods.RunPodAsync("net-original", p => p.PortMappings.Add(NetworkPods.TcpPort(8080, HostPorts.Pick())));
        Assert.Contains($"{logger} ADD crisp-e2e-original {original}", plugins.Calls);
        // The pass-through plugin handed bridge's result on: the pod has its address.
        Assert.True(range.Contains(await NetworkPods.IpAsync(net.Runtime, original)));
        Assert.Single(HostView.AllocationsOf(Path.Combine(dataDir, "crisp-e2e-original"), original));

        TestBridge.WriteConfFile(Path.Combine(net.Daemon.CniConfDir, "00-e2e.conflist"), Config("crisp-e2e-replaced", replacedRange));
        // New pods get the new network: the daemon did see the change.
        var replaced = await WaitForAddOnNetworkAsync(net, plugins, logger, "crisp-e2e-replaced");

        await net.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = original });
        Assert.Contains($"{logger} DEL crisp-e2e-original {original}", plugins.Calls);
        Assert.DoesNotContain($"{logger} DEL crisp-e2e-replaced {original}", plugins.Calls);
        // bridge and host-local were given the original config too: its address (kept under the network's name) is free.
        Assert.Empty(HostView.AllocationsOf(dataDir, original));
        Assert.DoesNotContain(original, await HostView.NatRulesAsync());

        await NetworkPods.RemoveAsync(net.Runtime, original);
        await NetworkPods.RemoveAsync(net.Runtime, replaced);
        Assert.Contains($"{logger} DEL crisp-e2e-replaced {replaced}", plugins.Calls);
        Assert.Equal(portsBefore.Order(), (await HostView.BridgePortsAsync()).Order());
    }

    /// <summary>Runs pods until one is set up on the named network (the daemon may re-read its conf dir lazily).</summary>
    private static async Task<string> WaitForAddOnNetworkAsync(NetworkDaemon net, ScriptPlugins plugins, string logger, string network)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        for (var attempt = 0; ; attempt++)
        {
            var (podId, _) = await net.Pods.RunPodAsync($"net-replaced-{attempt}");
            if (plugins.Calls.Contains($"{logger} ADD {network} {podId}")) return podId;
            await NetworkPods.RemoveAsync(net.Runtime, podId);
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"no pod was set up on {network} after the conf dir changed; calls:\n{string.Join('\n', plugins.Calls)}");
            await Task.Delay(200);
        }
    }
}
