using Crisp.Cri.V1;
using Grpc.Core;
using Xunit;

namespace Crisp.E2E.Network;

/// <summary>Port mappings and bandwidth annotations that cannot work are refused before anything is set up.</summary>
[Collection(NetworkCollection.Name)]
public sealed class NetworkInputValidationTests(NetworkFixture fixture)
{
    public static TheoryData<string, string, string, string> BadInputs => new()
    {
        // kind, value, expected field in the message, what the value is
        { "hostPort", "70000", "host_port", "a port beyond 65535" },
        { "containerPort", "0", "container_port", "container port 0" },
        { "hostIp", "not-an-ip", "host_ip", "a host IP that is not an address" },
        { "ingress", "lots", "kubernetes.io/ingress-bandwidth", "a bandwidth that is not a quantity" },
        { "egress", "-5M", "kubernetes.io/egress-bandwidth", "a negative bandwidth" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task Bad_network_input_is_invalid_argument_naming_the_field(string kind, string value, string field, string description)
    {
        var before = await SnapshotAsync();
        var refused = await NetworkPods.RunPodFailsAsync(fixture.Pods, "net-bad-" + kind.ToLowerInvariant(), p =>
        {
            var mapping = NetworkPods.TcpPort(8080, HostPorts.Pick());
            switch (kind)
            {
                case "hostPort": mapping.HostPort = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
                case "containerPort": mapping.ContainerPort = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
                case "hostIp": mapping.HostIp = value; break;
                case "ingress": p.Annotations["kubernetes.io/ingress-bandwidth"] = value; break;
                case "egress": p.Annotations["kubernetes.io/egress-bandwidth"] = value; break;
            }
            p.PortMappings.Add(mapping);
        });
        Assert.True(refused.StatusCode == StatusCode.InvalidArgument, $"{description}: {refused.StatusCode} {refused.Status.Detail}");
        Assert.Contains(field, refused.Status.Detail);
        Assert.Equal(before, await SnapshotAsync());
    }

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
