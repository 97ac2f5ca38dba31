using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Crisp.E2E.Daemon;
using Crisp.E2E.Fixtures;

namespace Crisp.E2E.Network;

/// <summary>What the host shows of pod networking: bridge ports, NAT rules, IPAM files, pinned namespaces.</summary>
public static partial class HostView
{
    /// <summary>Interfaces enslaved to the test bridge; empty when the bridge does not exist.</summary>
    public static async Task<IReadOnlySet<string>> BridgePortsAsync()
    {
        if (!Directory.Exists($"/sys/class/net/{TestBridge.Name}")) return new HashSet<string>();
        var result = await ToolRunner.RunAsync("ip", ["-o", "link", "show", "master", TestBridge.Name]);
        if (!result.Succeeded && !Directory.Exists($"/sys/class/net/{TestBridge.Name}")) return new HashSet<string>();
        result.EnsureSuccess();
        // "7: veth1a2b3c4d@if2: <BROADCAST,...> ..." → veth1a2b3c4d
        return result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(':', 3)[1].Trim().Split('@')[0])
            .ToHashSet(StringComparer.Ordinal);
    }

    public static async Task<string> NatRulesAsync() =>
        (await ToolRunner.RunCheckedAsync("iptables-save", ["-t", "nat"])).StandardOutput;

    /// <summary>host-local's per-address files (dataDir/network/ip) whose content names the container id.</summary>
    public static IReadOnlyList<string> AllocationsOf(string dataDir, string sandboxId) =>
        Allocations(dataDir).Where(f => File.ReadAllText(f).Contains(sandboxId, StringComparison.Ordinal)).ToList();

    /// <summary>Every address host-local holds under dataDir (its lock and last_reserved_ip files are not addresses).</summary>
    public static IReadOnlyList<string> Allocations(string dataDir) =>
        Directory.Exists(dataDir)
            ? Directory.EnumerateFiles(dataDir, "*", SearchOption.AllDirectories)
                .Where(f => IPAddress.TryParse(Path.GetFileName(f), out _))
                .ToList()
            : [];

    public static string NamespacesDir(CrispDaemon daemon) => Path.Combine(daemon.StateDirectory, "ns");

    public static string SandboxNamespaceDir(CrispDaemon daemon, string sandboxId) => Path.Combine(NamespacesDir(daemon), sandboxId);

    /// <summary>Per-sandbox directories under &lt;state&gt;/ns (the directory itself is daemon-wide and stays).</summary>
    public static IReadOnlyList<string> SandboxNamespaceDirs(CrispDaemon daemon) =>
        Directory.Exists(NamespacesDir(daemon)) ? Directory.GetDirectories(NamespacesDir(daemon)).Select(d => Path.GetFileName(d)).ToList() : [];

    /// <summary>
    /// Files and directories under crispd's root and state dirs named after an object id (64 hex digits, maybe with an
    /// extension): for a daemon that never pulled an image, whatever a removed or failed sandbox left there.
    /// </summary>
    public static IReadOnlyList<string> EntriesNamedAfterIds(CrispDaemon daemon) =>
        new[] { daemon.RootDirectory, daemon.StateDirectory }
            .Where(Directory.Exists)
            .SelectMany(d => Directory.EnumerateFileSystemEntries(d, "*", SearchOption.AllDirectories))
            .Where(e => ObjectIdName().IsMatch(Path.GetFileName(e)))
            .ToList();

    /// <summary>Files and directories under crispd's root and state dirs whose name contains the id.</summary>
    public static IReadOnlyList<string> EntriesNaming(CrispDaemon daemon, string id) =>
        new[] { daemon.RootDirectory, daemon.StateDirectory }
            .Where(Directory.Exists)
            .SelectMany(d => Directory.EnumerateFileSystemEntries(d, "*", SearchOption.AllDirectories))
            .Where(e => Path.GetFileName(e).Contains(id, StringComparison.Ordinal))
            .ToList();

    [GeneratedRegex("^[0-9a-f]{64}(\\..+)?$")]
    private static partial Regex ObjectIdName();

    public static IReadOnlySet<string> HostInterfaces() =>
        Directory.GetFileSystemEntries("/sys/class/net").Select(e => Path.GetFileName(e)).ToHashSet(StringComparer.Ordinal);

    /// <summary>An IPv4 address of an up, non-loopback host interface that is not part of the test bridge.</summary>
    public static IPAddress NodeAddress()
    {
        var bridgePorts = Directory.Exists($"/sys/class/net/{TestBridge.Name}/brif")
            ? Directory.GetFileSystemEntries($"/sys/class/net/{TestBridge.Name}/brif").Select(e => Path.GetFileName(e)).ToHashSet(StringComparer.Ordinal)
            : new HashSet<string>();
        return NetworkInterface.GetAllNetworkInterfaces()
            .Where(i => i.OperationalStatus == OperationalStatus.Up && i.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .Where(i => i.Name != TestBridge.Name && !bridgePorts.Contains(i.Name))
            .SelectMany(i => i.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))
            ?? throw new InvalidOperationException("this host has no non-loopback IPv4 address to test hostPort on");
    }
}
