using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Crisp.Cri.V1;
using Crisp.Runtime.Api;
using Crisp.Runtime.Network;
using Crisp.TestSupport.Network;
using Xunit;
using HostPort = Crisp.Runtime.Network.HostPortGuard.HostPort;

namespace Crisp.Runtime.Tests.Network;

public sealed class HostPortGuardTests
{
    private static CniAttachment Attached(string sandboxId, params PortMapping[] mappings)
    {
        var pod = new PodSandboxConfig { Metadata = new PodSandboxMetadata { Name = sandboxId, Namespace = "default", Uid = sandboxId } };
        pod.PortMappings.Add(mappings);
        var network = CniNetworkConfig.FromConflist(JsonNode.Parse("""{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"portmap"}]}""")!.AsObject());
        return new CniAttachment(sandboxId, network, new CniInvocation(sandboxId, "/ns", "eth0", ""), CniCapabilityArgs.For(pod, null), null);
    }

    private static PortMapping Tcp(int port, string hostIp = "") => new() { HostPort = port, ContainerPort = 80, Protocol = Protocol.Tcp, HostIp = hostIp };
    private static PortMapping Udp(int port, string hostIp = "") => new() { HostPort = port, ContainerPort = 80, Protocol = Protocol.Udp, HostIp = hostIp };

    [Theory]
    [InlineData("", "")]
    [InlineData("", "127.0.0.1")]
    [InlineData("0.0.0.0", "10.0.0.1")]
    [InlineData("::", "10.0.0.1")]
    [InlineData("10.0.0.1", "10.0.0.1")]
    [InlineData("10.0.0.1", "0.0.0.0")]
    public void Same_port_and_protocol_on_a_wildcard_or_equal_ip_overlaps(string a, string b)
    {
        Assert.True(new HostPort(80, "tcp", a).Overlaps(new HostPort(80, "tcp", b)));
        Assert.True(new HostPort(80, "tcp", b).Overlaps(new HostPort(80, "tcp", a)));
    }

    [Fact]
    public void Different_specific_ips_ports_or_protocols_do_not_overlap()
    {
        Assert.False(new HostPort(80, "tcp", "10.0.0.1").Overlaps(new HostPort(80, "tcp", "10.0.0.2")));
        Assert.False(new HostPort(80, "tcp", "").Overlaps(new HostPort(81, "tcp", "")));
        Assert.False(new HostPort(80, "tcp", "").Overlaps(new HostPort(80, "udp", "")));
        Assert.False(new HostPort(80, "sctp", "").Overlaps(new HostPort(80, "tcp", "")));
    }

    [Fact]
    public void Of_reads_the_port_mappings_of_capability_args()
    {
        var ports = HostPortGuard.Of(Attached("a", Tcp(8080), Udp(53, "127.0.0.1"), new PortMapping { ContainerPort = 1 }).CapabilityArgs);

        Assert.Equal([new HostPort(8080, "tcp", ""), new HostPort(53, "udp", "127.0.0.1")], ports);
        Assert.Empty(HostPortGuard.Of(new CniCapabilityArgs()));
    }

    [Fact]
    public void Description_names_the_port_protocol_and_address()
    {
        Assert.Equal("hostPort 8080/TCP on 0.0.0.0", new HostPort(8080, "tcp", "").ToString());
        Assert.Equal("hostPort 53/UDP on 127.0.0.1", new HostPort(53, "udp", "127.0.0.1").ToString());
    }

    [Fact]
    public void Nothing_wanted_is_always_fine()
    {
        HostPortGuard.EnsureFree([], [Attached("a", Tcp(1))]);
    }

    [Fact]
    public void Free_port_is_accepted()
    {
        var port = FreeTcpPort.Pick();

        HostPortGuard.EnsureFree(
            [new HostPort(port, "tcp", "127.0.0.1"), new HostPort(port, "udp", "")],
            [Attached("other-ip", Tcp(port, "192.0.2.1")), Attached("other-port", Tcp(port + 1)), Attached("other-protocol", new PortMapping { HostPort = port, ContainerPort = 1, Protocol = Protocol.Sctp })]);
    }

    [Fact]
    public void Port_held_by_another_attachment_names_that_sandbox()
    {
        var port = FreeTcpPort.Pick();

        var e = Assert.Throws<RuntimeException>(() =>
            HostPortGuard.EnsureFree([new HostPort(port, "tcp", "127.0.0.1")], [Attached("sb-other", Udp(port)), Attached("sb-holder", Tcp(port))]));

        Assert.Equal(RuntimeErrorKind.FailedPrecondition, e.Kind);
        Assert.Contains($"hostPort {port}", e.Message);
        Assert.Contains("sb-holder", e.Message);
        Assert.DoesNotContain("sb-other", e.Message);
    }

    [Fact]
    public void Same_port_on_another_specific_ip_of_another_pod_is_fine()
    {
        var port = FreeTcpPort.Pick();

        HostPortGuard.EnsureFree([new HostPort(port, "tcp", "127.0.0.1")], [Attached("a", Tcp(port, "192.0.2.1"))]);
    }

    [Fact]
    public void Same_port_twice_in_one_pod_is_refused()
    {
        var port = FreeTcpPort.Pick();

        var e = Assert.Throws<RuntimeException>(() =>
            HostPortGuard.EnsureFree([new HostPort(port, "tcp", ""), new HostPort(port, "tcp", "127.0.0.1")], []));

        Assert.Equal(RuntimeErrorKind.FailedPrecondition, e.Kind);
        Assert.Contains($"hostPort {port}", e.Message);
        Assert.Contains("twice", e.Message);
    }

    [Fact]
    public void Same_port_with_two_protocols_in_one_pod_is_fine()
    {
        var port = FreeTcpPort.Pick();

        HostPortGuard.EnsureFree([new HostPort(port, "tcp", ""), new HostPort(port, "udp", "")], []);
    }

    [Theory]
    [InlineData("")]
    [InlineData("127.0.0.1")]
    public void Port_of_a_listening_socket_on_the_node_is_refused(string hostIp)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        var e = Assert.Throws<RuntimeException>(() => HostPortGuard.EnsureFree([new HostPort(port, "tcp", hostIp)], []));

        Assert.Equal(RuntimeErrorKind.FailedPrecondition, e.Kind);
        Assert.Contains($"hostPort {port}", e.Message);
        Assert.Contains("on the node", e.Message);
    }

    [Fact]
    public void Listening_tcp_socket_does_not_block_the_same_udp_port()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        HostPortGuard.EnsureFree([new HostPort(port, "udp", "127.0.0.1")], []);
    }

    [Fact]
    public void Bound_udp_socket_on_the_node_is_refused()
    {
        using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)udp.Client.LocalEndPoint!).Port;

        var e = Assert.Throws<RuntimeException>(() => HostPortGuard.EnsureFree([new HostPort(port, "udp", "127.0.0.1")], []));

        Assert.Contains($"hostPort {port}", e.Message);
    }

    private const int SolSocket = 1, SoReusePort = 15;

    [Fact]
    public void Dotnet_reuse_address_sets_so_reuseport_on_linux()
    {
        // Why the guard's own probe socket can bind next to a SO_REUSEPORT listener: .NET's ReuseAddress sets both.
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        var value = new byte[4];
        socket.GetRawSocketOption(SolSocket, SoReusePort, value);
        Assert.Equal(1, BitConverter.ToInt32(value));
    }

    [Fact]
    public void Listener_with_so_reuseport_is_still_seen()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;

        var e = Assert.Throws<RuntimeException>(() => HostPortGuard.EnsureFree([new HostPort(port, "tcp", "127.0.0.1")], []));

        Assert.Contains($"hostPort {port}", e.Message);
    }

    [Fact]
    public void Listener_with_only_so_reuseaddr_is_seen()
    {
        // What most daemons (python's socketserver, sshd, ...) set: a listener with SO_REUSEADDR alone still conflicts.
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.SetRawSocketOption(SolSocket, 2 /* SO_REUSEADDR */, BitConverter.GetBytes(1));
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;

        var e = Assert.Throws<RuntimeException>(() => HostPortGuard.EnsureFree([new HostPort(port, "tcp", "")], []));

        Assert.Contains($"hostPort {port}", e.Message);
    }

    [Fact]
    public void Ipv6_listener_is_seen_on_its_address()
    {
        using var listener = new TcpListener(IPAddress.IPv6Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        var e = Assert.Throws<RuntimeException>(() => HostPortGuard.EnsureFree([new HostPort(port, "tcp", "::1")], []));

        Assert.Contains($"hostPort {port}", e.Message);
    }

    [Fact]
    public void Dual_stack_wildcard_listener_blocks_the_ipv4_wildcard()
    {
        using var listener = new Socket(SocketType.Stream, ProtocolType.Tcp) { DualMode = true };
        listener.Bind(new IPEndPoint(IPAddress.IPv6Any, 0));
        listener.Listen();
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;

        var e = Assert.Throws<RuntimeException>(() => HostPortGuard.EnsureFree([new HostPort(port, "tcp", "")], []));

        Assert.Contains($"hostPort {port}", e.Message);
    }

    [Fact]
    public void Address_that_is_not_on_this_node_is_left_to_portmap()
    {
        // 192.0.2.0/24 is TEST-NET-1: never a local address, so nothing here can be bound to it.
        HostPortGuard.EnsureFree([new HostPort(FreeTcpPort.Pick(), "tcp", "192.0.2.1")], []);
    }

    [Fact]
    public void Guard_releases_its_probe_socket()
    {
        var port = FreeTcpPort.Pick();

        HostPortGuard.EnsureFree([new HostPort(port, "tcp", "127.0.0.1")], []);

        using var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
    }
}
