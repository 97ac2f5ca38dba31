using System.Text.Json.Nodes;
using Crisp.Cri.V1;
using Crisp.E2E.Daemon;
using Xunit;

namespace Crisp.E2E.Network;

/// <summary>What a plugin is told on ADD: the Kubernetes CNI_ARGS, eth0 in the pod's pinned netns, and only the runtimeConfig it asks for.</summary>
[Collection(NetworkCollection.Name)]
public sealed class CniInvocationTests(NetworkFixture fixture)
{
    [Fact]
    public async Task Add_gets_the_pod_identity_its_netns_and_the_capabilities_it_declares()
    {
        var scratch = fixture.Scratch("invocation");
        var dataDir = Path.Combine(scratch, "ipam");
        var plugins = new ScriptPlugins(Path.Combine(scratch, "bin"));
        var asking = plugins.WritePassThrough("crisp-e2e-asking");
        var silent = plugins.WritePassThrough("crisp-e2e-silent");
        var shaper = plugins.WritePassThrough("crisp-e2e-shaper");
        var shaperPlugin = TestBridge.Plugin(shaper);
        shaperPlugin["capabilities"] = new JsonObject { ["bandwidth"] = true };
        var askingPlugin = TestBridge.Plugin(asking);
        askingPlugin["capabilities"] = new JsonObject { ["portMappings"] = true, ["dns"] = true, ["bandwidth"] = false };
        await using var net = await NetworkDaemon.StartAsync(new DaemonOptions
        {
            CniConfig = TestBridge.Conflist("crisp-e2e-invocation",
                TestBridge.BridgePlugin(dataDir, new(220, 229)), askingPlugin, TestBridge.Plugin(silent), shaperPlugin),
            Flags = plugins.DaemonFlags,
        });

        var hostPort = HostPorts.Pick();
        var (podId, pod) = await net.Pods.RunPodAsync("net-invocation", p =>
        {
            p.PortMappings.Add(NetworkPods.TcpPort(8080, hostPort));
            p.PortMappings.Add(new PortMapping { ContainerPort = 53, HostPort = hostPort, Protocol = Protocol.Udp, HostIp = "127.0.0.1" });
            // Not a hostPort: nothing for portmap to do.
            p.PortMappings.Add(new PortMapping { ContainerPort = 9090, Protocol = Protocol.Tcp });
            p.DnsConfig = new DNSConfig { Servers = { "10.199.0.53" }, Searches = { "e2e.svc" }, Options = { "ndots:2" } };
            p.Annotations["kubernetes.io/ingress-bandwidth"] = "10M";
            p.Annotations["kubernetes.io/egress-bandwidth"] = "1Mi";
        });
        try
        {
            var env = plugins.EnvironmentOf(asking, "ADD", podId);
            Assert.Equal(podId, env["CNI_CONTAINERID"]);
            Assert.Equal("eth0", env["CNI_IFNAME"]);
            Assert.Equal(Path.Combine(HostView.SandboxNamespaceDir(net.Daemon, podId), "net"), env["CNI_NETNS"]);
            var args = env["CNI_ARGS"].Split(';').ToHashSet(StringComparer.Ordinal);
            Assert.Contains("IgnoreUnknown=1", args);
            Assert.Contains("K8S_POD_NAMESPACE=e2e", args);
            Assert.Contains("K8S_POD_NAME=net-invocation", args);
            Assert.Contains($"K8S_POD_INFRA_CONTAINER_ID={podId}", args);
            Assert.Contains($"K8S_POD_UID={pod.Metadata.Uid}", args);
            Assert.Contains(plugins.BinDir, env["CNI_PATH"].Split(':'));

            var stdin = plugins.StdinOf(asking, "ADD", podId);
            Assert.Equal("crisp-e2e-invocation", (string?)stdin["name"]);
            Assert.Equal("1.0.0", (string?)stdin["cniVersion"]);
            Assert.NotNull(stdin["prevResult"]?["ips"]);
            var runtimeConfig = Assert.IsType<JsonObject>(stdin["runtimeConfig"]);
            Assert.Equal(["dns", "portMappings"], runtimeConfig.Select(kv => kv.Key).Order());
            var ports = runtimeConfig["portMappings"]!.AsArray().Select(m => (
                HostPort: (int)m!["hostPort"]!, ContainerPort: (int)m["containerPort"]!, Protocol: (string?)m["protocol"] ?? "", HostIp: (string?)m["hostIP"] ?? ""));
            Assert.Equal([(hostPort, 8080, "tcp", ""), (hostPort, 53, "udp", "127.0.0.1")], ports);
            var dns = runtimeConfig["dns"]!;
            Assert.Equal(["10.199.0.53"], dns["servers"]!.AsArray().Select(s => (string?)s));
            Assert.Equal(["e2e.svc"], dns["searches"]!.AsArray().Select(s => (string?)s));
            Assert.Equal(["ndots:2"], dns["options"]!.AsArray().Select(s => (string?)s));

            // The bandwidth annotations, in bits per second, for the plugin that asks for them.
            var bandwidth = plugins.StdinOf(shaper, "ADD", podId)["runtimeConfig"]?["bandwidth"];
            Assert.NotNull(bandwidth);
            Assert.Equal(10_000_000UL, (ulong)bandwidth["ingressRate"]!);
            Assert.Equal(1_048_576UL, (ulong)bandwidth["egressRate"]!);
            Assert.Null(plugins.StdinOf(shaper, "ADD", podId)["runtimeConfig"]?["portMappings"]);

            // A plugin without capabilities gets no runtimeConfig at all.
            Assert.Null(plugins.StdinOf(silent, "ADD", podId)["runtimeConfig"]);
        }
        finally
        {
            await NetworkPods.RemoveAsync(net.Runtime, podId);
        }
        // DEL is given the same identity and runtimeConfig (portmap needs the mappings to find its rules).
        var delEnv = plugins.EnvironmentOf(asking, "DEL", podId);
        Assert.Equal(podId, delEnv["CNI_CONTAINERID"]);
        Assert.Equal("eth0", delEnv["CNI_IFNAME"]);
        Assert.Contains($"K8S_POD_INFRA_CONTAINER_ID={podId}", delEnv["CNI_ARGS"].Split(';'));
        Assert.NotNull(plugins.StdinOf(asking, "DEL", podId)["runtimeConfig"]?["portMappings"]);
    }
}
