using System.Net;
using System.Text.Json.Nodes;

namespace Crisp.E2E.Network;

/// <summary>
/// The test-only CNI bridge every network test uses, and the conflists that put pods on it.
/// Each daemon gets its own slice of the subnet so a pod leaked by one test cannot collide with the next.
/// </summary>
public static class TestBridge
{
    public const string Name = "crispe2e0";
    public const string Subnet = "10.199.0.0/24";
    public const string Gateway = "10.199.0.1";

    /// <summary>A second test bridge, for a network whose addresses (and gateway) come from the node's pod CIDR.</summary>
    public const string PodCidrBridgeName = "crispe2e1";

    public static readonly string[] AllBridgeNames = [Name, PodCidrBridgeName];

    /// <summary>The host-local range a daemon allocates from: 10.199.0.First .. 10.199.0.Last.</summary>
    public sealed record AddressRange(int First, int Last)
    {
        public string Start => $"10.199.0.{First}";
        public string End => $"10.199.0.{Last}";

        public bool Contains(string ip) =>
            IPAddress.TryParse(ip, out var address)
            && address.GetAddressBytes() is [10, 199, 0, var last]
            && last >= First && last <= Last;
    }

    public static readonly AddressRange FixtureRange = new(10, 99);

    public static bool InSubnet(string ip) =>
        IPAddress.TryParse(ip, out var address) && address.GetAddressBytes() is [10, 199, 0, _];

    public static JsonObject BridgePlugin(string dataDir, AddressRange range) => new()
    {
        ["type"] = "bridge",
        ["bridge"] = Name,
        ["isGateway"] = true,
        ["ipMasq"] = false,
        ["hairpinMode"] = true,
        ["ipam"] = new JsonObject
        {
            ["type"] = "host-local",
            ["dataDir"] = dataDir,
            ["routes"] = new JsonArray(new JsonObject { ["dst"] = "0.0.0.0/0" }),
            ["ranges"] = new JsonArray(new JsonArray(new JsonObject
            {
                ["subnet"] = Subnet,
                ["rangeStart"] = range.Start,
                ["rangeEnd"] = range.End,
                ["gateway"] = Gateway,
            })),
        },
    };

    public static JsonObject PortmapPlugin() => new()
    {
        ["type"] = "portmap",
        ["capabilities"] = new JsonObject { ["portMappings"] = true },
    };

    public static JsonObject Plugin(string type) => new() { ["type"] = type };

    public static string Conflist(string networkName, params JsonObject[] plugins) => new JsonObject
    {
        ["cniVersion"] = "1.0.0",
        ["name"] = networkName,
        ["plugins"] = new JsonArray(plugins.Cast<JsonNode>().ToArray()),
    }.ToJsonString();

    /// <summary>bridge + host-local + portmap: the network a plain single-node cluster would have.</summary>
    public static string BridgeWithPortmap(string networkName, string dataDir, AddressRange range) =>
        Conflist(networkName, BridgePlugin(dataDir, range), PortmapPlugin());

    /// <summary>Writes under a name CNI ignores, then renames: the daemon never reads half a file.</summary>
    public static void WriteConfFile(string path, string content)
    {
        var temp = path + ".partial";
        File.WriteAllText(temp, content);
        File.Move(temp, path, overwrite: true);
    }
}
