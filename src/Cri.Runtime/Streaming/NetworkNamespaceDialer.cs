using System.Net;
using System.Net.Sockets;
using Crisp.Runtime.Api;
using Crisp.Runtime.Namespaces;

namespace Crisp.Runtime.Streaming;

/// <summary>
/// Opens TCP connections to a port on a pod's loopback. A socket belongs to the network namespace it was created
/// in, so only its creation happens inside the pod's namespace (<see cref="NetworkNamespaceThread"/>); the
/// connect, and all later I/O, then run on any thread.
/// </summary>
internal static class NetworkNamespaceDialer
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Connects to 127.0.0.1:<paramref name="port"/> (then [::1], as the kubelet's other runtimes do) inside the
    /// namespace pinned at <paramref name="networkNamespacePath"/>, or in crispd's own namespace when it is null
    /// (hostNetwork pods).
    /// </summary>
    public static async Task<Socket> ConnectLoopbackAsync(string podSandboxId, string? networkNamespacePath, int port, CancellationToken ct)
    {
        SocketException? refused = null;
        foreach (var address in new[] { IPAddress.Loopback, IPAddress.IPv6Loopback })
        {
            Socket socket;
            try
            {
                socket = await CreateSocketAsync(podSandboxId, networkNamespacePath, address.AddressFamily).ConfigureAwait(false);
            }
            catch (SocketException e) when (address.AddressFamily == AddressFamily.InterNetworkV6)
            {
                // A kernel without IPv6 cannot even create the socket; the IPv4 answer stands.
                refused ??= e;
                continue;
            }
            try
            {
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
                deadline.CancelAfter(ConnectTimeout);
                await socket.ConnectAsync(new IPEndPoint(address, port), deadline.Token).ConfigureAwait(false);
                socket.NoDelay = true;
                return socket;
            }
            catch (SocketException e)
            {
                socket.Dispose();
                refused ??= e;
                // An IPv6 loopback that does not exist (disabled IPv6) must not hide the IPv4 answer.
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                socket.Dispose();
                throw new RuntimeException(RuntimeErrorKind.Unavailable,
                    $"port forward to pod sandbox {podSandboxId} port {port}: connecting to {address} timed out after {ConnectTimeout.TotalSeconds:0}s");
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        throw new RuntimeException(RuntimeErrorKind.Unavailable,
            $"port forward to pod sandbox {podSandboxId} port {port}: nothing accepts connections on the pod's loopback ({refused?.SocketErrorCode}: {refused?.Message})",
            refused);
    }

    /// <summary>Creates an unconnected TCP socket inside the namespace (a socket belongs to the namespace it was made in).</summary>
    internal static Task<Socket> CreateSocketAsync(string podSandboxId, string? networkNamespacePath, AddressFamily family) =>
        networkNamespacePath is null
            ? Task.FromResult(new Socket(family, SocketType.Stream, ProtocolType.Tcp))
            : NetworkNamespaceThread.RunAsync(networkNamespacePath, $"port forward to pod sandbox {podSandboxId}",
                () => new Socket(family, SocketType.Stream, ProtocolType.Tcp));
}
