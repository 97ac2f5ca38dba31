using System.Net;
using Crisp.E2E.Fixtures;

namespace Crisp.Bench;

/// <summary>
/// The network suite's own CNI network: a bridge conflist on a bench-only bridge whose IPAM state lives in a temp
/// directory, and the undoing of what the bridge plugin changes on the host (the link, ip_forward).
/// </summary>
public sealed class BenchBridgeNetwork
{
    public const string BridgeName = "crispbench0";
    public const string NetworkName = "crispbench";
    private const string SubnetText = "10.198.0.0/24";
    private const string IpForwardPath = "/proc/sys/net/ipv4/ip_forward";

    private readonly string _directory;
    private readonly string _savedIpForward;

    private BenchBridgeNetwork(string directory, string savedIpForward)
    {
        _directory = directory;
        _savedIpForward = savedIpForward;
    }

    public static IPNetwork Subnet { get; } = IPNetwork.Parse(SubnetText);

    /// <summary>host-local keeps one file per leased address here (plus its lock and last-reserved files).</summary>
    public string IpamDataDirectory => Path.Combine(_directory, "ipam");

    /// <summary>
    /// bridge with a gateway on the host side (which turns ip_forward on at the first ADD), no masquerading so no
    /// NAT rules are left behind, and portmap asking for the portMappings capability as a kubelet node's would.
    /// </summary>
    public string ConfList => $$"""
        {
          "cniVersion": "1.0.0",
          "name": "{{NetworkName}}",
          "plugins": [
            {
              "type": "bridge",
              "bridge": "{{BridgeName}}",
              "isGateway": true,
              "ipMasq": false,
              "ipam": {
                "type": "host-local",
                "ranges": [[{ "subnet": "{{SubnetText}}" }]],
                "routes": [{ "dst": "0.0.0.0/0" }],
                "dataDir": "{{IpamDataDirectory}}"
              }
            },
            { "type": "portmap", "capabilities": { "portMappings": true } }
          ]
        }
        """;

    public static async Task<BenchBridgeNetwork> CreateAsync(CancellationToken cancellationToken)
    {
        // A bench run killed before its cleanup leaves the bridge behind; the name is the bench's own, and a stale
        // link would carry the old run's state into this one.
        await DeleteBridgeAsync(cancellationToken);
        var savedIpForward = (await File.ReadAllTextAsync(IpForwardPath, cancellationToken)).Trim();
        var directory = Directory.CreateTempSubdirectory($"crisp-bench-net-{Environment.ProcessId}-").FullName;
        ExitCleanup.TrackDirectory(directory);
        return new BenchBridgeNetwork(directory, savedIpForward);
    }

    /// <summary>Addresses host-local still holds as leased: each is a pod whose CNI DEL did not run or failed.</summary>
    public IReadOnlyList<string> Leases()
    {
        var networkDirectory = Path.Combine(IpamDataDirectory, NetworkName);
        if (!Directory.Exists(networkDirectory)) return [];
        return Directory.EnumerateFiles(networkDirectory)
            .Select(Path.GetFileName)
            .Where(name => name is not null && IPAddress.TryParse(name, out _))
            .Select(name => name!)
            .ToList();
    }

    /// <summary>Interfaces still enslaved to the bridge: each is a pod veth that CNI DEL did not remove.</summary>
    public static async Task<IReadOnlyList<string>> BridgePortsAsync(CancellationToken cancellationToken)
    {
        var result = await ToolRunner.RunAsync("ip", ["-o", "link", "show", "master", BridgeName], cancellationToken);
        if (!result.Succeeded) return [];
        return result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(':', 3))
            .Where(parts => parts.Length == 3)
            .Select(parts => parts[1].Trim())
            .ToList();
    }

    /// <summary>nat rules portmap added for this network's pods (it names the network in each rule's comment).</summary>
    public static async Task<IReadOnlyList<string>> PortForwardRulesAsync(CancellationToken cancellationToken)
    {
        var result = await ToolRunner.RunCheckedAsync("iptables-save", ["-t", "nat"], cancellationToken);
        var marker = $"name: \\\"{NetworkName}\\\"";
        return result.StandardOutput.Split('\n').Where(line => line.Contains(marker, StringComparison.Ordinal)).ToList();
    }

    /// <summary>Deletes the bridge, restores ip_forward and removes the IPAM directory; what could not be undone.</summary>
    public async Task<IReadOnlyList<string>> CleanUpAsync()
    {
        var problems = new List<string>();
        try
        {
            await DeleteBridgeAsync(CancellationToken.None);
        }
        catch (ToolFailedException e)
        {
            problems.Add($"could not delete {BridgeName}: {e.Message}");
        }

        try
        {
            var current = (await File.ReadAllTextAsync(IpForwardPath)).Trim();
            if (current != _savedIpForward) await File.WriteAllTextAsync(IpForwardPath, _savedIpForward + "\n");
        }
        catch (IOException e)
        {
            problems.Add($"could not restore net.ipv4.ip_forward={_savedIpForward}: {e.Message}");
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
            ExitCleanup.UntrackDirectory(_directory);
        }
        catch (IOException e)
        {
            problems.Add($"could not remove {_directory}: {e.Message}");
        }
        return problems;
    }

    private static async Task DeleteBridgeAsync(CancellationToken cancellationToken)
    {
        var show = await ToolRunner.RunAsync("ip", ["link", "show", BridgeName], cancellationToken);
        if (!show.Succeeded) return;
        await ToolRunner.RunCheckedAsync("ip", ["link", "delete", BridgeName], cancellationToken);
    }
}
