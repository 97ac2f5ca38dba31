using System.Text.Json.Nodes;
using Crisp.Cri.V1;
using Crisp.Runtime.Api;
using Crisp.Runtime.Network;
using Xunit;

namespace Crisp.Runtime.Tests.Network;

public sealed class CniCapabilityArgsTests
{
    private static PodSandboxConfig Pod() => new()
    {
        Metadata = new PodSandboxMetadata { Name = "web", Namespace = "default", Uid = "uid-1" },
    };

    private static JsonObject Plugin(string json) => JsonNode.Parse(json)!.AsObject();

    [Fact]
    public void Pod_without_extras_has_no_capability_values()
    {
        var args = CniCapabilityArgs.For(Pod(), podCidr: null);

        Assert.Empty(args.Values);
        Assert.Null(args.RuntimeConfigFor(Plugin("""{"type":"portmap","capabilities":{"portMappings":true,"dns":true,"bandwidth":true,"ipRanges":true}}""")));
    }

    [Fact]
    public void Port_mappings_only_with_a_host_port_and_with_protocol_names_and_host_ip()
    {
        var pod = Pod();
        pod.PortMappings.Add(new PortMapping { ContainerPort = 80, HostPort = 8080, Protocol = Protocol.Tcp });
        pod.PortMappings.Add(new PortMapping { ContainerPort = 53, HostPort = 5353, Protocol = Protocol.Udp, HostIp = "127.0.0.1" });
        pod.PortMappings.Add(new PortMapping { ContainerPort = 9, HostPort = 9999, Protocol = Protocol.Sctp, HostIp = "::1" });
        pod.PortMappings.Add(new PortMapping { ContainerPort = 443, HostPort = 0 });
        pod.PortMappings.Add(new PortMapping { ContainerPort = 444, HostPort = -1 });

        var ports = Assert.IsType<JsonArray>(CniCapabilityArgs.For(pod, null).Values["portMappings"]);

        Assert.Equal(3, ports.Count);
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse("""{"hostPort":8080,"containerPort":80,"protocol":"tcp","hostIP":""}"""), ports[0]), ports[0]!.ToJsonString());
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse("""{"hostPort":5353,"containerPort":53,"protocol":"udp","hostIP":"127.0.0.1"}"""), ports[1]), ports[1]!.ToJsonString());
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse("""{"hostPort":9999,"containerPort":9,"protocol":"sctp","hostIP":"::1"}"""), ports[2]), ports[2]!.ToJsonString());
    }

    [Fact]
    public void Only_container_ports_means_no_port_mappings_value()
    {
        var pod = Pod();
        pod.PortMappings.Add(new PortMapping { ContainerPort = 80 });

        Assert.False(CniCapabilityArgs.For(pod, null).Values.ContainsKey("portMappings"));
    }

    [Fact]
    public void Dns_carries_servers_searches_and_options()
    {
        var pod = Pod();
        pod.DnsConfig = new DNSConfig { Servers = { "10.96.0.10" }, Searches = { "default.svc.cluster.local", "svc.cluster.local" }, Options = { "ndots:5" } };

        var dns = CniCapabilityArgs.For(pod, null).Values["dns"];

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""
            {"servers":["10.96.0.10"],"searches":["default.svc.cluster.local","svc.cluster.local"],"options":["ndots:5"]}
            """), dns), dns?.ToJsonString());
    }

    [Fact]
    public void Empty_dns_config_gives_no_dns_value()
    {
        var pod = Pod();
        pod.DnsConfig = new DNSConfig();

        Assert.False(CniCapabilityArgs.For(pod, null).Values.ContainsKey("dns"));
    }

    [Fact]
    public void Bandwidth_annotations_become_rates_in_bits_per_second()
    {
        var pod = Pod();
        pod.Annotations[BandwidthQuantity.IngressAnnotation] = "10M";
        pod.Annotations[BandwidthQuantity.EgressAnnotation] = "1Gi";

        var bandwidth = Assert.IsType<JsonObject>(CniCapabilityArgs.For(pod, null).Values["bandwidth"]);

        Assert.Equal(10_000_000UL, bandwidth["ingressRate"]!.GetValue<ulong>());
        Assert.Equal(1_073_741_824UL, bandwidth["egressRate"]!.GetValue<ulong>());
        Assert.True(bandwidth["ingressBurst"]!.GetValue<ulong>() > 0);
        Assert.True(bandwidth["egressBurst"]!.GetValue<ulong>() > 0);
    }

    [Fact]
    public void Only_one_bandwidth_direction_sets_only_that_one()
    {
        var pod = Pod();
        pod.Annotations[BandwidthQuantity.EgressAnnotation] = "500k";

        var bandwidth = Assert.IsType<JsonObject>(CniCapabilityArgs.For(pod, null).Values["bandwidth"]);

        Assert.Equal(500_000UL, bandwidth["egressRate"]!.GetValue<ulong>());
        Assert.False(bandwidth.ContainsKey("ingressRate"));
        Assert.False(bandwidth.ContainsKey("ingressBurst"));
    }

    [Fact]
    public void Invalid_bandwidth_annotation_is_invalid_argument()
    {
        var pod = Pod();
        pod.Annotations[BandwidthQuantity.IngressAnnotation] = "lots";

        var e = Assert.Throws<RuntimeException>(() => CniCapabilityArgs.For(pod, null));

        Assert.Equal(RuntimeErrorKind.InvalidArgument, e.Kind);
        Assert.Contains(BandwidthQuantity.IngressAnnotation, e.Message);
    }

    [Fact]
    public void Single_stack_pod_cidr_is_one_range_set()
    {
        var ranges = CniCapabilityArgs.For(Pod(), "10.244.1.0/24").Values["ipRanges"];

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""[[{"subnet":"10.244.1.0/24"}]]"""), ranges), ranges?.ToJsonString());
    }

    [Fact]
    public void Dual_stack_pod_cidr_is_one_range_set_per_family()
    {
        var ranges = CniCapabilityArgs.For(Pod(), "10.244.1.0/24, fd00:10:244:1::/64").Values["ipRanges"];

        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse("""[[{"subnet":"10.244.1.0/24"}],[{"subnet":"fd00:10:244:1::/64"}]]"""), ranges), ranges?.ToJsonString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(" , ")]
    public void No_pod_cidr_gives_no_ip_ranges(string? podCidr)
    {
        Assert.False(CniCapabilityArgs.For(Pod(), podCidr).Values.ContainsKey("ipRanges"));
    }

    private static CniCapabilityArgs Everything()
    {
        var pod = Pod();
        pod.PortMappings.Add(new PortMapping { ContainerPort = 80, HostPort = 8080 });
        pod.DnsConfig = new DNSConfig { Servers = { "1.1.1.1" } };
        pod.Annotations[BandwidthQuantity.IngressAnnotation] = "1M";
        return CniCapabilityArgs.For(pod, "10.0.0.0/24");
    }

    [Fact]
    public void Plugin_gets_only_the_capabilities_it_declares_true()
    {
        var args = Everything();

        var portmap = args.RuntimeConfigFor(Plugin("""{"type":"portmap","capabilities":{"portMappings":true,"dns":false}}""")) ;
        var ipam = args.RuntimeConfigFor(Plugin("""{"type":"bridge","capabilities":{"ipRanges":true,"bandwidth":"yes","dns":1}}"""));

        Assert.NotNull(portmap);
        Assert.Equal(["portMappings"], portmap.Select(p => p.Key));
        Assert.NotNull(ipam);
        Assert.Equal(["ipRanges"], ipam.Select(p => p.Key));
    }

    [Fact]
    public void Plugin_without_capabilities_or_with_unknown_ones_gets_no_runtime_config()
    {
        var args = Everything();

        Assert.Null(args.RuntimeConfigFor(Plugin("""{"type":"loopback"}""")));
        Assert.Null(args.RuntimeConfigFor(Plugin("""{"type":"x","capabilities":{"mac":true,"ips":true}}""")));
        Assert.Null(args.RuntimeConfigFor(Plugin("""{"type":"x","capabilities":{"portMappings":false}}""")));
        Assert.Null(args.RuntimeConfigFor(Plugin("""{"type":"x","capabilities":true}""")));
    }

    [Fact]
    public void Plugin_declaring_everything_gets_everything()
    {
        var config = Everything().RuntimeConfigFor(Plugin("""
            {"type":"x","capabilities":{"portMappings":true,"dns":true,"bandwidth":true,"ipRanges":true}}
            """));

        Assert.NotNull(config);
        Assert.Equal(["bandwidth", "dns", "ipRanges", "portMappings"], config.Select(p => p.Key).Order());
    }

    [Fact]
    public void Runtime_config_is_a_copy()
    {
        var args = Everything();
        var plugin = Plugin("""{"type":"portmap","capabilities":{"portMappings":true}}""");

        var first = args.RuntimeConfigFor(plugin)!;
        first["portMappings"]![0]!["hostPort"] = 1;

        Assert.Equal(8080, args.RuntimeConfigFor(plugin)!["portMappings"]![0]!["hostPort"]!.GetValue<int>());
    }

    [Fact]
    public void FromJson_restores_the_values()
    {
        var args = Everything();

        var restored = CniCapabilityArgs.FromJson(JsonNode.Parse(args.Values.ToJsonString())!.AsObject());

        Assert.True(JsonNode.DeepEquals(args.Values, restored.Values));
        Assert.Empty(CniCapabilityArgs.FromJson(null).Values);
    }
}
