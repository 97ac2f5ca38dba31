using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;

namespace Crisp.Runtime.Network;

/// <summary>
/// The pod IPs in a CNI ADD result. Reads the 0.3.x/0.4.0/1.0.0 shape (ips[] with CIDR addresses, optionally
/// pointing at an interface) and the legacy 0.1/0.2 shape (ip4/ip6 objects) that older plugins still return.
/// </summary>
public static class CniResult
{
    /// <summary>The pod's IPs, IPv4 first (the kubelet's primary pod IP), each once, in result order otherwise.</summary>
    public static IReadOnlyList<string> PodIps(JsonObject? result)
    {
        if (result is null) return [];
        var found = new List<IPAddress>();
        if (result["ips"] is JsonArray ips)
        {
            var interfaces = result["interfaces"] as JsonArray;
            foreach (var entry in ips.OfType<JsonObject>())
            {
                // An address on a host-side interface (a veth's host end) is not the pod's.
                if (entry["interface"] is JsonValue index && index.TryGetValue<int>(out var i)
                    && interfaces is not null && i >= 0 && i < interfaces.Count
                    && interfaces[i] is JsonObject iface && !(iface["sandbox"] is JsonValue sandbox && sandbox.TryGetValue<string>(out var path) && path.Length > 0))
                    continue;
                AddAddress(found, entry["address"]);
            }
        }
        else
        {
            AddAddress(found, (result["ip4"] as JsonObject)?["ip"]);
            AddAddress(found, (result["ip6"] as JsonObject)?["ip"]);
        }
        return found.Distinct()
            .OrderBy(a => a.AddressFamily == AddressFamily.InterNetwork ? 0 : 1)
            .Select(a => a.ToString())
            .ToList();
    }

    private static void AddAddress(List<IPAddress> into, JsonNode? cidr)
    {
        if (cidr is not JsonValue v || !v.TryGetValue<string>(out var text)) return;
        var slash = text.IndexOf('/');
        if (IPAddress.TryParse(slash < 0 ? text : text[..slash], out var address)) into.Add(address);
    }
}
