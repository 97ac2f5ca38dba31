using Crisp.Cri.V1;
using Crisp.E2E.Daemon;
using Grpc.Core;
using Xunit;

namespace Crisp.E2E.Network;

/// <summary>A plugin that is missing or refuses: RunPodSandbox fails Internal naming it, and ADD is fully undone.</summary>
[Collection(NetworkCollection.Name)]
public sealed class CniFailureTests(NetworkFixture fixture)
{
    [Fact]
    public async Task Missing_plugin_fails_internal_naming_it_and_leaves_nothing()
    {
        var dataDir = Path.Combine(fixture.Scratch("missing-plugin"), "ipam");
        const string missing = "crisp-e2e-no-such-plugin";
        var portsBefore = await HostView.BridgePortsAsync();
        await using var net = await NetworkDaemon.StartAsync(new DaemonOptions
        {
            CniConfig = TestBridge.Conflist("crisp-e2e-missing", TestBridge.BridgePlugin(dataDir, new(140, 159)), TestBridge.Plugin(missing)),
        });

        var failed = await NetworkPods.RunPodFailsAsync(net.Pods, "net-missing-plugin");
        Assert.Equal(StatusCode.Internal, failed.StatusCode);
        Assert.Contains(missing, failed.Status.Detail);

        await AssertNothingLeftAsync(net, dataDir, portsBefore);
    }

    [Fact]
    public async Task Plugin_error_fails_internal_with_its_message_and_adds_are_undone_by_del()
    {
        var scratch = fixture.Scratch("refusing-plugin");
        var dataDir = Path.Combine(scratch, "ipam");
        var plugins = new ScriptPlugins(Path.Combine(scratch, "bin"));
        var refusing = plugins.WriteRefusing("crisp-e2e-refuse", "crisp-e2e plugin refused");
        var portsBefore = await HostView.BridgePortsAsync();
        await using var net = await NetworkDaemon.StartAsync(new DaemonOptions
        {
            CniConfig = TestBridge.Conflist("crisp-e2e-refusing", TestBridge.BridgePlugin(dataDir, new(160, 179)), TestBridge.Plugin(refusing)),
            Flags = plugins.DaemonFlags,
        });

        var failed = await NetworkPods.RunPodFailsAsync(net.Pods, "net-refused");
        Assert.Equal(StatusCode.Internal, failed.StatusCode);
        Assert.Contains("crisp-e2e plugin refused", failed.Status.Detail);
        Assert.Contains(refusing, failed.Status.Detail);

        // The plugin was asked to ADD (after bridge did its part), then the chain was deleted for the same sandbox.
        var add = Assert.Single(plugins.Calls, c => c.StartsWith($"{refusing} ADD crisp-e2e-refusing ", StringComparison.Ordinal));
        var sandboxId = add.Split(' ')[3];
        Assert.Contains($"{refusing} DEL crisp-e2e-refusing {sandboxId}", plugins.Calls);
        Assert.False(Directory.Exists(HostView.SandboxNamespaceDir(net.Daemon, sandboxId)), "netns dir of the failed sandbox left behind");
        Assert.Empty(HostView.AllocationsOf(dataDir, sandboxId));
        await AssertNothingLeftAsync(net, dataDir, portsBefore);
    }

    private static async Task AssertNothingLeftAsync(NetworkDaemon net, string dataDir, IReadOnlySet<string> portsBefore)
    {
        var left = new List<string>();
        left.AddRange((await net.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest())).Items.Select(p => $"sandbox {p.Id} listed"));
        left.AddRange(HostView.SandboxNamespaceDirs(net.Daemon).Select(d => $"netns dir {HostView.SandboxNamespaceDir(net.Daemon, d)}"));
        left.AddRange(HostView.Allocations(dataDir).Select(f => $"host-local address {f}"));
        left.AddRange((await HostView.BridgePortsAsync()).Except(portsBefore).Select(p => $"veth {p} on {TestBridge.Name}"));
        left.AddRange(HostView.EntriesNamedAfterIds(net.Daemon).Select(e => $"state entry {e}"));
        var warnings = net.Daemon.Output.Split('\n').Where(l => l.Contains("warn", StringComparison.OrdinalIgnoreCase) || l.Contains("fail", StringComparison.OrdinalIgnoreCase));
        Assert.True(left.Count == 0, $"left behind after the failed RunPodSandbox:\n{string.Join('\n', left)}\ncrispd warnings:\n{string.Join('\n', warnings)}");
    }
}
