using Crisp.Cri.V1;
using Crisp.E2E.Runtime;
using Xunit;

namespace Crisp.E2E.Network;

/// <summary>hostNetwork pods: the host's interfaces, no pod IP, and CNI is never called.</summary>
[Collection(NetworkCollection.Name)]
public sealed class HostNetworkTests(NetworkFixture fixture)
{
    [Fact]
    public async Task Host_network_pod_sees_the_host_interfaces_and_gets_no_cni_address()
    {
        var image = await fixture.BusyboxAsync();
        var allocationsBefore = HostView.Allocations(fixture.IpamDataDir).Count;
        var bridgePortsBefore = await HostView.BridgePortsAsync();
        var (podId, pod) = await fixture.Pods.RunPodAsync("net-host", p =>
            p.Linux.SecurityContext.NamespaceOptions.Network = NamespaceMode.Node);
        try
        {
            var status = await NetworkPods.StatusAsync(fixture.Runtime, podId);
            Assert.Equal("", status.Network?.Ip ?? "");
            Assert.Empty(status.Network?.AdditionalIps ?? []);
            Assert.False(Directory.Exists(Path.Combine(HostView.SandboxNamespaceDir(fixture.Daemon, podId), "net")), "a hostNetwork pod must not get a pinned netns");
            Assert.Empty(HostView.AllocationsOf(fixture.IpamDataDir, podId));
            Assert.Equal(allocationsBefore, HostView.Allocations(fixture.IpamDataDir).Count);
            Assert.Equal(bridgePortsBefore, await HostView.BridgePortsAsync());

            var container = await NetworkPods.StartContainerAsync(fixture.Pods, podId, pod, "ifaces", image, NetworkPods.Sleeper);
            // /proc/net/dev is per network namespace: the interfaces of the namespace the reader is in.
            // Read the host's list on both sides of it: something else on the machine may add or remove a link meanwhile.
            var hostBefore = HostView.HostInterfaces();
            var netDev = await NetworkPods.ExecUntilSuccessAsync(fixture.Pods, container, ["cat", "/proc/net/dev"]);
            var hostAfter = HostView.HostInterfaces();
            var seenInside = netDev.Split('\n').Skip(2)
                .Where(l => l.Contains(':'))
                .Select(l => l.Split(':')[0].Trim())
                .ToHashSet(StringComparer.Ordinal);
            var inside = string.Join(", ", seenInside.Order());
            Assert.True(hostBefore.Intersect(hostAfter).All(seenInside.Contains), $"inside the pod: {inside}; on the host: {string.Join(", ", hostAfter.Order())}");
            Assert.True(seenInside.All(i => hostBefore.Contains(i) || hostAfter.Contains(i)), $"inside the pod: {inside}; on the host: {string.Join(", ", hostAfter.Order())}");
            Assert.Contains("lo", seenInside);
            Assert.True(seenInside.Count > 1, $"only {string.Join(", ", seenInside)} inside");
        }
        finally
        {
            await NetworkPods.RemoveAsync(fixture.Runtime, podId);
        }
    }
}
