using Crisp.Cri.V1;
using Crisp.E2E.Daemon;
using Grpc.Core;
using Xunit;

namespace Crisp.E2E.Network;

/// <summary>Status NetworkReady follows the CNI config dir without a restart; pod networks need a valid config.</summary>
[Collection(NetworkCollection.Name)]
public sealed class NetworkReadinessTests(NetworkFixture fixture)
{
    [Fact]
    public async Task NetworkReady_flips_to_true_when_a_valid_config_appears_and_pods_then_run()
    {
        var dataDir = Path.Combine(fixture.Scratch("ready-flip"), "ipam");
        var range = new TestBridge.AddressRange(100, 119);
        await using var net = await NetworkDaemon.StartAsync(new DaemonOptions { CniConfig = null });

        var notReady = await NetworkReadyAsync(net.Runtime);
        Assert.False(notReady.Status);
        Assert.Equal("NetworkPluginNotReady", notReady.Reason);
        Assert.NotEmpty(notReady.Message);

        var refused = await NetworkPods.RunPodFailsAsync(net.Pods, "net-unready");
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Contains(net.Daemon.CniConfDir, refused.Status.Detail);
        Assert.Empty((await net.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest())).Items);
        Assert.Empty(HostView.SandboxNamespaceDirs(net.Daemon));

        // A hostNetwork pod needs no CNI network (that is how a CNI daemonset itself gets started).
        var (hostPod, _) = await net.Pods.RunPodAsync("net-unready-host", p => p.Linux.SecurityContext.NamespaceOptions.Network = NamespaceMode.Node);
        await NetworkPods.RemoveAsync(net.Runtime, hostPod);

        TestBridge.WriteConfFile(Path.Combine(net.Daemon.CniConfDir, "10-e2e.conflist"), TestBridge.BridgeWithPortmap("crisp-e2e-late", dataDir, range));
        await WaitForNetworkReadyAsync(net.Runtime, expected: true);

        var (podId, _) = await net.Pods.RunPodAsync("net-late");
        var ip = await NetworkPods.IpAsync(net.Runtime, podId);
        Assert.True(range.Contains(ip), $"pod ip \"{ip}\" is not from the config written after start ({range.Start}-{range.End})");
        await NetworkPods.RemoveAsync(net.Runtime, podId);
    }

    [Fact]
    public async Task Malformed_config_sorted_first_is_skipped_and_named_in_the_message_only_while_nothing_is_valid()
    {
        var scratch = fixture.Scratch("bad-first");
        var confDir = Directory.CreateDirectory(Path.Combine(scratch, "net.d")).FullName;
        var range = new TestBridge.AddressRange(120, 139);
        File.WriteAllText(Path.Combine(confDir, "00-broken.conflist"), """{"cniVersion":"1.0.0","name":"broken","plugins":[{"type":""");
        await using var net = await NetworkDaemon.StartAsync(new DaemonOptions { CniConfDir = confDir });

        var onlyBroken = await NetworkReadyAsync(net.Runtime);
        Assert.False(onlyBroken.Status);
        Assert.Equal("NetworkPluginNotReady", onlyBroken.Reason);
        Assert.Contains("00-broken.conflist", onlyBroken.Message);
        var refused = await NetworkPods.RunPodFailsAsync(net.Pods, "net-broken");
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);

        TestBridge.WriteConfFile(Path.Combine(confDir, "10-valid.conflist"), TestBridge.BridgeWithPortmap("crisp-e2e-valid", Path.Combine(scratch, "ipam"), range));
        var ready = await WaitForNetworkReadyAsync(net.Runtime, expected: true);
        Assert.DoesNotContain("00-broken.conflist", ready.Message);

        var (podId, _) = await net.Pods.RunPodAsync("net-valid");
        var ip = await NetworkPods.IpAsync(net.Runtime, podId);
        Assert.True(range.Contains(ip), $"pod ip \"{ip}\" is not from 10-valid.conflist ({range.Start}-{range.End})");
        await NetworkPods.RemoveAsync(net.Runtime, podId);
    }

    [Fact]
    public async Task Conf_dir_that_appears_after_start_is_picked_up()
    {
        var scratch = fixture.Scratch("late-dir");
        var confDir = Path.Combine(scratch, "net.d");
        await using var net = await NetworkDaemon.StartAsync(new DaemonOptions { CniConfDir = confDir });
        // The test daemon creates its conf dir; a node where it does not exist yet (CNI daemonset not installed) has none.
        Directory.Delete(confDir);
        var missing = await WaitForNetworkReadyAsync(net.Runtime, expected: false);
        Assert.Equal("NetworkPluginNotReady", missing.Reason);
        Assert.Contains(confDir, missing.Message);

        var staging = Directory.CreateDirectory(Path.Combine(scratch, "staging")).FullName;
        File.WriteAllText(Path.Combine(staging, "10-e2e.conflist"), TestBridge.BridgeWithPortmap("crisp-e2e-late-dir", Path.Combine(scratch, "ipam"), new(230, 239)));
        Directory.Move(staging, confDir);
        await WaitForNetworkReadyAsync(net.Runtime, expected: true);

        var (podId, _) = await net.Pods.RunPodAsync("net-late-dir");
        var ip = await NetworkPods.IpAsync(net.Runtime, podId);
        Assert.True(new TestBridge.AddressRange(230, 239).Contains(ip), $"pod ip \"{ip}\" is not from the late conf dir's network");
        await NetworkPods.RemoveAsync(net.Runtime, podId);
    }

    internal static async Task<RuntimeCondition> NetworkReadyAsync(RuntimeService.RuntimeServiceClient runtime) =>
        (await runtime.StatusAsync(new StatusRequest())).Status.Conditions.Single(c => c.Type == "NetworkReady");

    private static async Task<RuntimeCondition> WaitForNetworkReadyAsync(RuntimeService.RuntimeServiceClient runtime, bool expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            var condition = await NetworkReadyAsync(runtime);
            if (condition.Status == expected) return condition;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"NetworkReady still {condition.Status} ({condition.Reason}: {condition.Message})");
            await Task.Delay(100);
        }
    }
}
