using System.Net;
using System.Net.Sockets;
using Crisp.Cri.V1;
using Crisp.E2E.Runtime;
using Xunit;

namespace Crisp.E2E.Network;

/// <summary>Pods on the test bridge: addresses, pod-to-pod traffic, hostPorts from the host, resolv.conf.</summary>
[Collection(NetworkCollection.Name)]
public sealed class BridgeNetworkTests(NetworkFixture fixture)
{
    private PodHelper Pods => fixture.Pods;

    [Fact]
    public async Task Two_pods_get_distinct_bridge_addresses_and_reach_each_other_by_ip()
    {
        var image = await fixture.BusyboxAsync();
        var (serverPod, serverConfig) = await Pods.RunPodAsync("net-server");
        var (clientPod, clientConfig) = await Pods.RunPodAsync("net-client");
        try
        {
            var serverIp = await NetworkPods.IpAsync(fixture.Runtime, serverPod);
            var clientIp = await NetworkPods.IpAsync(fixture.Runtime, clientPod);
            Assert.True(TestBridge.FixtureRange.Contains(serverIp), $"server pod ip \"{serverIp}\" is not in the network's range {TestBridge.Subnet}");
            Assert.True(TestBridge.FixtureRange.Contains(clientIp), $"client pod ip \"{clientIp}\" is not in the network's range {TestBridge.Subnet}");
            Assert.NotEqual(serverIp, clientIp);

            await NetworkPods.StartContainerAsync(Pods, serverPod, serverConfig, "httpd", image, NetworkPods.HttpServer("hello-from-a"));
            var client = await NetworkPods.StartContainerAsync(Pods, clientPod, clientConfig, "wget", image, NetworkPods.Sleeper);

            // No -T: Debian's busybox-static 1.35 wget segfaults with a timeout; ExecSync's own timeout bounds it.
            var body = await NetworkPods.ExecUntilSuccessAsync(Pods, client, ["wget", "-q", "-O", "-", $"http://{serverIp}:8080/"]);
            Assert.Equal("hello-from-a\n", body);

            // The client sees its own address on eth0: the status reports the address the pod really has.
            var addresses = await NetworkPods.ExecUntilSuccessAsync(Pods, client, ["ip", "-o", "-4", "addr", "show", "dev", "eth0"]);
            Assert.Contains($" {clientIp}/24 ", addresses);

            // The traffic shows in the pod's network stats (eth0 of the pod's namespace, not the node's).
            var stats = (await fixture.Runtime.PodSandboxStatsAsync(new PodSandboxStatsRequest { PodSandboxId = clientPod })).Stats;
            Assert.Equal("eth0", stats.Linux.Network.DefaultInterface.Name);
            Assert.True(stats.Linux.Network.DefaultInterface.RxBytes.Value > 0);
            Assert.True(stats.Linux.Network.DefaultInterface.TxBytes.Value > 0);
            Assert.DoesNotContain(stats.Linux.Network.Interfaces, i => i.Name == "lo");
        }
        finally
        {
            await NetworkPods.RemoveAsync(fixture.Runtime, serverPod);
            await NetworkPods.RemoveAsync(fixture.Runtime, clientPod);
        }
    }

    [Fact]
    public async Task HostPort_answers_on_loopback_and_on_the_node_address()
    {
        var image = await fixture.BusyboxAsync();
        var hostPort = HostPorts.Pick();
        var (podId, pod) = await Pods.RunPodAsync("net-hostport", p => p.PortMappings.Add(NetworkPods.TcpPort(8080, hostPort)));
        try
        {
            await NetworkPods.StartContainerAsync(Pods, podId, pod, "httpd", image, NetworkPods.HttpServer("hello-via-hostport"));

            Assert.Equal("hello-via-hostport\n", await NetworkPods.HttpGetFromHostAsync($"http://127.0.0.1:{hostPort}/"));
            var node = HostView.NodeAddress();
            Assert.Equal("hello-via-hostport\n", await NetworkPods.HttpGetFromHostAsync($"http://{node}:{hostPort}/"));
        }
        finally
        {
            await NetworkPods.RemoveAsync(fixture.Runtime, podId);
        }

        // Once the pod is gone the port is closed again: refused at once, not forwarded to an address nobody has.
        using var tcp = new TcpClient();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var refused = await Assert.ThrowsAsync<SocketException>(() => tcp.ConnectAsync(IPAddress.Loopback, hostPort, cts.Token).AsTask());
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    [Fact]
    public async Task Dns_config_is_the_resolv_conf_of_a_bridged_pod()
    {
        var image = await fixture.BusyboxAsync();
        var (podId, pod) = await Pods.RunPodAsync("net-dns", p => p.DnsConfig = new DNSConfig
        {
            Servers = { "10.199.0.53", "10.199.0.54" },
            Searches = { "net.e2e.svc.cluster.local", "e2e.example" },
            Options = { "ndots:3", "timeout:2" },
        });
        try
        {
            Assert.True(TestBridge.FixtureRange.Contains(await NetworkPods.IpAsync(fixture.Runtime, podId)));
            var container = await NetworkPods.StartContainerAsync(Pods, podId, pod, "dns", image, NetworkPods.Sleeper);
            var resolvConf = await NetworkPods.ExecUntilSuccessAsync(Pods, container, ["cat", "/etc/resolv.conf"]);
            var lines = resolvConf.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

            Assert.Equal(["10.199.0.53", "10.199.0.54"], Values(lines, "nameserver"));
            Assert.Equal(["net.e2e.svc.cluster.local", "e2e.example"], Values(lines, "search"));
            Assert.Equal(["ndots:3", "timeout:2"], Values(lines, "options"));
        }
        finally
        {
            await NetworkPods.RemoveAsync(fixture.Runtime, podId);
        }
    }

    /// <summary>Every value of a resolv.conf keyword, in order, whether given on one line or several.</summary>
    private static string[] Values(IEnumerable<string> lines, string keyword) =>
        lines.Select(l => l.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
            .Where(words => words.Length > 0 && words[0] == keyword)
            .SelectMany(words => words.Skip(1))
            .ToArray();
}
