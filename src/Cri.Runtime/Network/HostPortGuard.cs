using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Crisp.Runtime.Api;

namespace Crisp.Runtime.Network;

/// <summary>
/// Refuses a hostPort that is already taken, before any rule is written. portmap only adds DNAT rules; without
/// this check a second pod, or a daemon on the node, would silently lose its traffic to the newest pod.
/// </summary>
public static class HostPortGuard
{
    public sealed record HostPort(int Port, string Protocol, string HostIp)
    {
        public override string ToString() => $"hostPort {Port}/{Protocol.ToUpperInvariant()} on {(HostIp.Length == 0 ? "0.0.0.0" : HostIp)}";

        public bool Overlaps(HostPort other) =>
            Port == other.Port && Protocol == other.Protocol
            && (IsWildcard(HostIp) || IsWildcard(other.HostIp) || HostIp == other.HostIp);

        private static bool IsWildcard(string ip) => ip is "" or "0.0.0.0" or "::";
    }

    public static IReadOnlyList<HostPort> Of(CniCapabilityArgs args) =>
        args.Values["portMappings"] is JsonArray mappings
            ? mappings.OfType<JsonObject>().Select(m => new HostPort(
                m["hostPort"]!.GetValue<int>(), m["protocol"]?.GetValue<string>() ?? "tcp", m["hostIP"]?.GetValue<string>() ?? "")).ToList()
            : [];

    /// <summary>Throws FailedPrecondition naming the port and its holder when any wanted port is in use.</summary>
    public static void EnsureFree(IReadOnlyList<HostPort> wanted, IEnumerable<CniAttachment> attached)
    {
        if (wanted.Count == 0) return;
        var held = attached.SelectMany(a => Of(a.CapabilityArgs).Select(p => (Port: p, a.SandboxId))).ToList();
        for (var i = 0; i < wanted.Count; i++)
        {
            var port = wanted[i];
            if (wanted.Take(i).Any(port.Overlaps))
                throw new RuntimeException(RuntimeErrorKind.FailedPrecondition, $"{port} is mapped twice in the pod's port_mappings");
            if (held.FirstOrDefault(h => h.Port.Overlaps(port)) is { SandboxId: { } holder })
                throw new RuntimeException(RuntimeErrorKind.FailedPrecondition, $"{port} is already in use by pod sandbox {holder}");
            if (HostSocketHolds(port) is { } reason)
                throw new RuntimeException(RuntimeErrorKind.FailedPrecondition, $"{port} is already in use on the node: {reason}");
        }
    }

    /// <summary>Binding the port ourselves is the one check that sees every listener, whatever its address.</summary>
    private static string? HostSocketHolds(HostPort port)
    {
        if (port.Protocol == "sctp") return null;
        var address = port.HostIp.Length == 0 ? IPAddress.Any : IPAddress.TryParse(port.HostIp, out var ip) ? ip : null;
        if (address is null) return null;
        var type = port.Protocol == "udp" ? SocketType.Dgram : SocketType.Stream;
        var protocol = port.Protocol == "udp" ? ProtocolType.Udp : ProtocolType.Tcp;
        using var socket = new Socket(address.AddressFamily, type, protocol);
        // TIME_WAIT leftovers of closed connections must not count as "in use"; a listener still does. Set raw
        // SO_REUSEADDR only: .NET's ReuseAddress option adds SO_REUSEPORT on Linux, which would let this probe bind
        // beside a listener that itself uses SO_REUSEPORT (envoy, nginx) and miss it.
        const int solSocket = 1, soReuseAddr = 2;
        socket.SetRawSocketOption(solSocket, soReuseAddr, BitConverter.GetBytes(1));
        try
        {
            socket.Bind(new IPEndPoint(address, port.Port));
            return null;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            return "another process is bound to it";
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressNotAvailable)
        {
            // Not an address of this node: nothing local can hold it, and portmap decides what the rule means.
            return null;
        }
    }
}
