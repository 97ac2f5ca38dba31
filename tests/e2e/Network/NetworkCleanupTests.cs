using Crisp.Cri.V1;
using Crisp.E2E.Runtime;
using Xunit;

namespace Crisp.E2E.Network;

/// <summary>Stop and remove undo everything the network setup did on the host.</summary>
[Collection(NetworkCollection.Name)]
public sealed class NetworkCleanupTests(NetworkFixture fixture)
{
    [Fact]
    public async Task Stop_and_remove_leave_no_veth_netns_nat_rule_or_address_behind()
    {
        var image = await fixture.BusyboxAsync();
        var portsBefore = await HostView.BridgePortsAsync();
        var hostPort = HostPorts.Pick();
        var (mappedPod, mappedConfig) = await fixture.Pods.RunPodAsync("net-clean-mapped", p => p.PortMappings.Add(NetworkPods.TcpPort(8080, hostPort)));
        var (plainPod, plainConfig) = await fixture.Pods.RunPodAsync("net-clean-plain");
        string[] pods = [mappedPod, plainPod];
        try
        {
            await NetworkPods.StartContainerAsync(fixture.Pods, mappedPod, mappedConfig, "httpd", image, NetworkPods.HttpServer("bye"));
            await NetworkPods.StartContainerAsync(fixture.Pods, plainPod, plainConfig, "idle", image, NetworkPods.Sleeper);

            // What there is to clean up, so the checks below cannot pass vacuously.
            var portsWhileRunning = await HostView.BridgePortsAsync();
            Assert.Equal(portsBefore.Count + 2, portsWhileRunning.Count);
            Assert.Contains(mappedPod, await HostView.NatRulesAsync());
            foreach (var pod in pods)
            {
                Assert.True(File.Exists(Path.Combine(HostView.SandboxNamespaceDir(fixture.Daemon, pod), "net")), $"no pinned netns for {pod}");
                Assert.Single(HostView.AllocationsOf(fixture.IpamDataDir, pod));
            }

            foreach (var pod in pods)
            {
                await fixture.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = pod });
            }
            // CNI DEL runs at stop, as a kubelet expects: the address is free before the pod is removed.
            Assert.Equal(portsBefore.Order(), (await HostView.BridgePortsAsync()).Order());
            foreach (var pod in pods)
            {
                Assert.Empty(HostView.AllocationsOf(fixture.IpamDataDir, pod));
                Assert.DoesNotContain(pod, await HostView.NatRulesAsync());
                // A second stop (a kubelet retrying) finds nothing to undo and succeeds.
                await fixture.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = pod });
                await fixture.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = pod });
            }
        }
        finally
        {
            foreach (var pod in pods) await NetworkPods.RemoveAsync(fixture.Runtime, pod);
        }

        Assert.Equal(portsBefore.Order(), (await HostView.BridgePortsAsync()).Order());
        var nat = await HostView.NatRulesAsync();
        foreach (var pod in pods)
        {
            Assert.False(Directory.Exists(HostView.SandboxNamespaceDir(fixture.Daemon, pod)), $"{HostView.SandboxNamespaceDir(fixture.Daemon, pod)} left behind");
            Assert.DoesNotContain(pod, nat);
            Assert.Empty(HostView.AllocationsOf(fixture.IpamDataDir, pod));
            Assert.Empty(HostView.EntriesNaming(fixture.Daemon, pod));
        }
    }
}
