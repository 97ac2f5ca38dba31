using System.Text.Json.Nodes;
using Crisp.Cri.V1;

namespace Crisp.Runtime.Network;

/// <summary>
/// The runtimeConfig values crisp can give plugins (CNI conventions: portMappings, dns, bandwidth, ipRanges).
/// Each plugin receives only the ones its "capabilities" map asks for, as libcni does.
/// </summary>
public sealed class CniCapabilityArgs
{
    public JsonObject Values { get; } = new();

    public static CniCapabilityArgs For(PodSandboxConfig config, string? podCidr)
    {
        var args = new CniCapabilityArgs();
        var ports = new JsonArray();
        foreach (var mapping in config.PortMappings.Where(m => m.HostPort > 0))
        {
            ports.Add((JsonNode)new JsonObject
            {
                ["hostPort"] = mapping.HostPort,
                ["containerPort"] = mapping.ContainerPort,
                ["protocol"] = ProtocolName(mapping.Protocol),
                ["hostIP"] = mapping.HostIp ?? "",
            });
        }
        if (ports.Count > 0) args.Values["portMappings"] = ports;

        if (config.DnsConfig is { } dns && (dns.Servers.Count > 0 || dns.Searches.Count > 0 || dns.Options.Count > 0))
        {
            args.Values["dns"] = new JsonObject
            {
                ["servers"] = new JsonArray(dns.Servers.Select(s => (JsonNode)s).ToArray()),
                ["searches"] = new JsonArray(dns.Searches.Select(s => (JsonNode)s).ToArray()),
                ["options"] = new JsonArray(dns.Options.Select(s => (JsonNode)s).ToArray()),
            };
        }

        var bandwidth = new JsonObject();
        // Burst is not expressible in the annotations; like containerd and CRI-O, leave it effectively unlimited.
        const ulong unlimitedBurst = int.MaxValue;
        if (config.Annotations.TryGetValue(BandwidthQuantity.IngressAnnotation, out var ingress))
        {
            bandwidth["ingressRate"] = BandwidthQuantity.ParseBitsPerSecond(BandwidthQuantity.IngressAnnotation, ingress);
            bandwidth["ingressBurst"] = unlimitedBurst;
        }
        if (config.Annotations.TryGetValue(BandwidthQuantity.EgressAnnotation, out var egress))
        {
            bandwidth["egressRate"] = BandwidthQuantity.ParseBitsPerSecond(BandwidthQuantity.EgressAnnotation, egress);
            bandwidth["egressBurst"] = unlimitedBurst;
        }
        if (bandwidth.Count > 0) args.Values["bandwidth"] = bandwidth;

        // A dual-stack node has "v4cidr,v6cidr": one range set per family.
        var cidrs = (podCidr ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (cidrs.Length > 0)
            args.Values["ipRanges"] = new JsonArray(cidrs.Select(c => (JsonNode)new JsonArray(new JsonObject { ["subnet"] = c })).ToArray());
        return args;
    }

    public static CniCapabilityArgs FromJson(JsonObject? values)
    {
        var args = new CniCapabilityArgs();
        if (values is null) return args;
        foreach (var (key, value) in values) args.Values[key] = value?.DeepClone();
        return args;
    }

    /// <summary>The runtimeConfig for one plugin: the capabilities it declares true that crisp has a value for.</summary>
    public JsonObject? RuntimeConfigFor(JsonObject plugin)
    {
        if (plugin["capabilities"] is not JsonObject capabilities) return null;
        var runtimeConfig = new JsonObject();
        foreach (var (name, enabled) in capabilities)
        {
            if (enabled is JsonValue v && v.TryGetValue<bool>(out var on) && on && Values[name] is { } value)
                runtimeConfig[name] = value.DeepClone();
        }
        return runtimeConfig.Count == 0 ? null : runtimeConfig;
    }

    private static string ProtocolName(Protocol protocol) => protocol switch
    {
        Protocol.Udp => "udp",
        Protocol.Sctp => "sctp",
        _ => "tcp",
    };
}
