using System.Net;
using System.Net.Sockets;
using Crisp.Cri.V1;
using Grpc.Core;
using Xunit;

namespace Crisp.E2E.Network;

/// <summary>A hostPort someone already has is refused up front, with nothing set up for the refused pod.</summary>
[Collection(NetworkCollection.Name)]
public sealed class HostPortConflictTests(NetworkFixture fixture)
{
    [Fact]
    public async Task HostPort_held_by_a_listening_socket_on_the_host_is_a_failed_precondition()
    {
        var hostPort = HostPorts.Pick();
        var before = await SnapshotAsync();
        var listener = new TcpListener(IPAddress.Any, hostPort);
        listener.Start();
        try
        {
            var refused = await NetworkPods.RunPodFailsAsync(fixture.Pods, "net-port-taken", p => p.PortMappings.Add(NetworkPods.TcpPort(8080, hostPort)));
            Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
            Assert.Contains($"hostPort {hostPort}", refused.Status.Detail);
        }
        finally
        {
            listener.Stop();
        }
        Assert.Equal(before, await SnapshotAsync());
    }

    [Fact]
    public async Task Second_pod_asking_for_the_same_hostPort_is_a_failed_precondition_until_the_first_is_gone()
    {
        var hostPort = HostPorts.Pick();
        var (first, _) = await fixture.Pods.RunPodAsync("net-port-first", p => p.PortMappings.Add(NetworkPods.TcpPort(8080, hostPort)));
        string? udp = null;
        string? third = null;
        try
        {
            var before = await SnapshotAsync();
            var refused = await NetworkPods.RunPodFailsAsync(fixture.Pods, "net-port-second", p => p.PortMappings.Add(NetworkPods.TcpPort(8081, hostPort)));
            Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
            Assert.Contains($"hostPort {hostPort}", refused.Status.Detail);
            Assert.Equal(before, await SnapshotAsync());

            // The same number over UDP is another port.
            (udp, _) = await fixture.Pods.RunPodAsync("net-port-udp", p =>
                p.PortMappings.Add(new PortMapping { ContainerPort = 8080, HostPort = hostPort, Protocol = Protocol.Udp }));

            await NetworkPods.RemoveAsync(fixture.Runtime, first);
            (third, _) = await fixture.Pods.RunPodAsync("net-port-third", p => p.PortMappings.Add(NetworkPods.TcpPort(8080, hostPort)));
            Assert.Contains(third, await HostView.NatRulesAsync());
        }
        finally
        {
            await NetworkPods.RemoveAsync(fixture.Runtime, first);
            if (udp is not null) await NetworkPods.RemoveAsync(fixture.Runtime, udp);
            if (third is not null) await NetworkPods.RemoveAsync(fixture.Runtime, third);
        }
    }

    [Fact]
    public async Task Two_pods_started_at_once_with_the_same_hostPort_get_it_once()
    {
        var hostPort = HostPorts.Pick();
        var runs = Enumerable.Range(0, 2)
            .Select(i => fixture.Pods.RunPodAsync($"net-port-race-{i}", p => p.PortMappings.Add(NetworkPods.TcpPort(8080, hostPort))))
            .ToList();
        var started = new List<string>();
        var refusals = new List<RpcException>();
        foreach (var run in runs)
        {
            try
            {
                started.Add((await run).Id);
            }
            catch (RpcException e)
            {
                refusals.Add(e);
            }
        }
        try
        {
            Assert.Single(started);
            var refused = Assert.Single(refusals);
            Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
            Assert.Contains($"hostPort {hostPort}", refused.Status.Detail);
        }
        finally
        {
            foreach (var podId in started) await NetworkPods.RemoveAsync(fixture.Runtime, podId);
        }
    }

    [Fact]
    public async Task Same_hostPort_on_different_host_ips_serves_each_pod_and_the_wildcard_overlaps_both()
    {
        var image = await fixture.BusyboxAsync();
        var hostPort = HostPorts.Pick();
        var node = HostView.NodeAddress().ToString();
        var (loopbackPod, loopbackConfig) = await fixture.Pods.RunPodAsync("net-hostip-loopback", p =>
            p.PortMappings.Add(new PortMapping { ContainerPort = 8080, HostPort = hostPort, Protocol = Protocol.Tcp, HostIp = "127.0.0.1" }));
        string? nodePod = null;
        try
        {
            PodSandboxConfig nodeConfig;
            (nodePod, nodeConfig) = await fixture.Pods.RunPodAsync("net-hostip-node", p =>
                p.PortMappings.Add(new PortMapping { ContainerPort = 8080, HostPort = hostPort, Protocol = Protocol.Tcp, HostIp = node }));
            await NetworkPods.StartContainerAsync(fixture.Pods, loopbackPod, loopbackConfig, "httpd", image, NetworkPods.HttpServer("on-loopback"));
            await NetworkPods.StartContainerAsync(fixture.Pods, nodePod, nodeConfig, "httpd", image, NetworkPods.HttpServer("on-node"));

            Assert.Equal("on-loopback\n", await NetworkPods.HttpGetFromHostAsync($"http://127.0.0.1:{hostPort}/"));
            Assert.Equal("on-node\n", await NetworkPods.HttpGetFromHostAsync($"http://{node}:{hostPort}/"));

            // No hostIP means every address of the node: it overlaps both.
            var refused = await NetworkPods.RunPodFailsAsync(fixture.Pods, "net-hostip-any", p => p.PortMappings.Add(NetworkPods.TcpPort(8080, hostPort)));
            Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
            Assert.Contains($"hostPort {hostPort}", refused.Status.Detail);
        }
        finally
        {
            await NetworkPods.RemoveAsync(fixture.Runtime, loopbackPod);
            if (nodePod is not null) await NetworkPods.RemoveAsync(fixture.Runtime, nodePod);
        }
    }

    /// <summary>Pods listed, per-sandbox namespace dirs, addresses and bridge ports: what a refused pod must not add.</summary>
    private async Task<string> SnapshotAsync()
    {
        var pods = (await fixture.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest())).Items.Select(p => p.Id).Order();
        return string.Join("\n",
            "pods: " + string.Join(",", pods),
            "ns: " + string.Join(",", HostView.SandboxNamespaceDirs(fixture.Daemon).Order()),
            "addresses: " + string.Join(",", HostView.Allocations(fixture.IpamDataDir).Order()),
            "bridge ports: " + string.Join(",", (await HostView.BridgePortsAsync()).Order()));
    }
}
