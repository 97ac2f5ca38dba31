using System.Net;
using System.Text.Json.Nodes;
using Crisp.Cri.V1;
using Crisp.E2E.Daemon;
using Xunit;

namespace Crisp.E2E.Network;

/// <summary>The node's pod CIDR from UpdateRuntimeConfig reaches IPAM as the ipRanges capability.</summary>
[Collection(NetworkCollection.Name)]
public sealed class PodCidrTests(NetworkFixture fixture)
{
    [Fact]
    public async Task Pod_cidr_from_UpdateRuntimeConfig_is_where_pods_get_their_addresses()
    {
        var dataDir = Path.Combine(fixture.Scratch("pod-cidr"), "ipam");
        // The bridge plugin refuses a second IPv4 gateway on a bridge, so the pod CIDR gets a bridge of its own.
        var bridge = TestBridge.BridgePlugin(dataDir, new(1, 1));
        bridge["bridge"] = TestBridge.PodCidrBridgeName;
        bridge["capabilities"] = new JsonObject { ["ipRanges"] = true };
        // host-local adds runtimeConfig.ipRanges to its configured ranges (one address per range set), so the config has
        // none: without the pod CIDR, host-local has nothing to allocate from and the pod fails to start.
        bridge["ipam"]!.AsObject().Remove("ranges");
        await using var net = await NetworkDaemon.StartAsync(new DaemonOptions
        {
            CniConfig = TestBridge.Conflist("crisp-e2e-podcidr", bridge, TestBridge.PortmapPlugin()),
        });

        await net.Runtime.UpdateRuntimeConfigAsync(new UpdateRuntimeConfigRequest
        {
            RuntimeConfig = new RuntimeConfig { NetworkConfig = new NetworkConfig { PodCidr = "10.199.1.0/28" } },
        });
        var (podId, _) = await net.Pods.RunPodAsync("net-podcidr");
        try
        {
            var ip = await NetworkPods.IpAsync(net.Runtime, podId);
            Assert.True(IPAddress.TryParse(ip, out var address) && address.GetAddressBytes() is [10, 199, 1, < 16],
                $"pod ip \"{ip}\" is not in the pod CIDR 10.199.1.0/28");
        }
        finally
        {
            await NetworkPods.RemoveAsync(net.Runtime, podId);
        }
    }
}
