using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Crisp.Runtime.Api;
using Crisp.Runtime.Namespaces;
using Crisp.Runtime.Streaming;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Crisp.Runtime.IntegrationTests.Streaming;

/// <summary>
/// Port forward's dial into a real pinned pod network namespace (as root): a busybox nc listens on the pod's
/// loopback, on a port nothing on the host listens on.
/// </summary>
public sealed class NetworkNamespaceDialerTests : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "crisp-pf-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly string _podId = "pf" + Guid.NewGuid().ToString("N")[..10];
    private PodNamespaces _namespaces = null!;
    private string _netns = "";
    private readonly List<Process> _listeners = [];

    public async Task InitializeAsync()
    {
        _namespaces = new PodNamespaces(_dir, NullLogger<PodNamespaces>.Instance);
        var pinned = await _namespaces.CreateAsync(_podId, newNetwork: true, newIpc: false, newUts: false, sharedPid: false, "pf-pod", userNamespace: null, CancellationToken.None);
        _netns = pinned.NetworkPath!;
    }

    public async Task DisposeAsync()
    {
        foreach (var listener in _listeners)
        {
            try { listener.Kill(entireProcessTree: true); }
            catch (InvalidOperationException) { }
            await listener.WaitForExitAsync();
            listener.Dispose();
        }
        await _namespaces.RemoveAsync(_podId, CancellationToken.None);
        try { Directory.Delete(_dir, recursive: true); }
        catch (IOException) { }
    }

    [Fact]
    public async Task Connects_to_the_pods_loopback_not_the_hosts_and_leaves_crispd_in_its_own_namespace()
    {
        var port = FreeHostPort();
        var listener = StartListener(port);
        var hostNetnsBefore = new FileInfo("/proc/self/ns/net").LinkTarget;
        Assert.StartsWith("net:[", hostNetnsBefore, StringComparison.Ordinal);

        using var socket = await ConnectEventuallyAsync(port);
        Assert.True(socket.Connected);
        await socket.SendAsync("from-client\n"u8.ToArray(), SocketFlags.None);
        Assert.Equal("from-client", await listener.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(5)));
        await listener.StandardInput.WriteLineAsync("from-pod");
        await listener.StandardInput.FlushAsync();
        var buffer = new byte[64];
        var read = await socket.ReceiveAsync(buffer, SocketFlags.None).WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal("from-pod\n", Encoding.ASCII.GetString(buffer, 0, read));

        Assert.Equal(hostNetnsBefore, new FileInfo("/proc/self/ns/net").LinkTarget);
        Assert.Equal(hostNetnsBefore, new FileInfo("/proc/thread-self/ns/net").LinkTarget);
        // The same port on the host has no listener: the connection above really went into the pod.
        using var host = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var refused = await Assert.ThrowsAsync<SocketException>(async () => await host.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port)));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    [Fact]
    public async Task A_port_nobody_listens_on_is_Unavailable_naming_pod_and_port()
    {
        var port = FreeHostPort();
        var e = await Assert.ThrowsAsync<RuntimeException>(() => NetworkNamespaceDialer.ConnectLoopbackAsync(_podId, _netns, port, CancellationToken.None));
        Assert.Equal(RuntimeErrorKind.Unavailable, e.Kind);
        Assert.Contains(_podId, e.Message, StringComparison.Ordinal);
        Assert.Contains($"port {port}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_namespace_that_is_gone_is_FailedPrecondition()
    {
        var e = await Assert.ThrowsAsync<RuntimeException>(() =>
            NetworkNamespaceDialer.ConnectLoopbackAsync(_podId, Path.Combine(_dir, "no-such-netns"), 80, CancellationToken.None));
        Assert.Equal(RuntimeErrorKind.FailedPrecondition, e.Kind);
        Assert.Contains("no-such-netns", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Port_forward_pipes_both_ways_and_ends_when_the_pod_closes()
    {
        var port = FreeHostPort();
        // The pod answers one line and closes: the session must end by itself, with everything delivered.
        var listener = StartListener(port);
        using var pod = await ConnectEventuallyAsync(port);

        var (clientSide, sessionSide) = await ConnectedPairAsync();
        using (clientSide)
        await using (var sessionStream = new NetworkStream(sessionSide, ownsSocket: true))
        {
            var session = PortForwardSession.PipeAsync(pod, sessionStream, CancellationToken.None);
            await clientSide.SendAsync("request\n"u8.ToArray(), SocketFlags.None);
            Assert.Equal("request", await listener.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(5)));
            await listener.StandardInput.WriteLineAsync("response");
            listener.StandardInput.Close();
            // busybox nc exits at its stdin's EOF, closing the pod side.
            await session.WaitAsync(TimeSpan.FromSeconds(10));
            var buffer = new byte[64];
            var read = await clientSide.ReceiveAsync(buffer, SocketFlags.None).WaitAsync(TimeSpan.FromSeconds(5));
            Assert.Equal("response\n", Encoding.ASCII.GetString(buffer, 0, read));
        }
    }

    private async Task<Socket> ConnectEventuallyAsync(int port)
    {
        // nc needs a moment to listen; a refusal before that is expected.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (true)
        {
            try { return await NetworkNamespaceDialer.ConnectLoopbackAsync(_podId, _netns, port, CancellationToken.None); }
            catch (RuntimeException e) when (e.Kind == RuntimeErrorKind.Unavailable && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    private Process StartListener(int port)
    {
        var psi = new ProcessStartInfo("nsenter")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
        };
        foreach (var a in new[] { "--net=" + _netns, "busybox", "nc", "-l", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture) })
            psi.ArgumentList.Add(a);
        var process = Process.Start(psi)!;
        _listeners.Add(process);
        return process;
    }

    private static int FreeHostPort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private static async Task<(Socket Client, Socket Server)> ConnectedPairAsync()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var accept = listener.AcceptSocketAsync();
        await client.ConnectAsync(listener.LocalEndpoint);
        return (client, await accept);
    }

}
