using System.Net;
using System.Net.Sockets;
using Crisp.Interop;
using Crisp.Runtime.Api;

namespace Crisp.Runtime.Streaming;

/// <summary>
/// Opens TCP connections to a port on a pod's loopback. A socket belongs to the network namespace it was created
/// in, so only its creation needs to happen inside the pod's namespace: a dedicated OS thread joins it, creates
/// the socket, switches back and ends. The connect, and all later I/O, then run on any thread.
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

    /// <summary>Creates an unconnected TCP socket inside the namespace (on a thread of its own; see the class summary).</summary>
    internal static Task<Socket> CreateSocketAsync(string podSandboxId, string? networkNamespacePath, AddressFamily family)
    {
        if (networkNamespacePath is null) return Task.FromResult(new Socket(family, SocketType.Stream, ProtocolType.Tcp));

        var result = new TaskCompletionSource<Socket>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try { result.TrySetResult(CreateInNamespace(podSandboxId, networkNamespacePath, family)); }
            catch (Exception e) { result.TrySetException(e); }
        })
        {
            IsBackground = true,
            Name = "crisp-netns-dial",
        };
        thread.Start();
        return result.Task;
    }

    private static Socket CreateInNamespace(string podSandboxId, string networkNamespacePath, AddressFamily family)
    {
        using var own = Libc.Open("/proc/thread-self/ns/net", Libc.O_RDONLY);
        using (var target = OpenNamespace(podSandboxId, networkNamespacePath))
        {
            try { Libc.SetNamespace(target, Libc.CLONE_NEWNET, networkNamespacePath); }
            catch (SyscallException e)
            {
                throw new RuntimeException(RuntimeErrorKind.Internal,
                    $"port forward to pod sandbox {podSandboxId}: cannot enter its network namespace: {e.Message}", e);
            }
        }
        Socket? socket = null;
        try
        {
            socket = new Socket(family, SocketType.Stream, ProtocolType.Tcp);
        }
        finally
        {
            try
            {
                Libc.SetNamespace(own, Libc.CLONE_NEWNET, "/proc/thread-self/ns/net (back to crispd's)");
            }
            catch (SyscallException)
            {
                // This thread ends right after and takes the foreign namespace with it; nothing else ever runs on
                // it. The socket (if made) is still valid, so only the failure to come back is lost.
            }
        }
        return socket;
    }

    private static Microsoft.Win32.SafeHandles.SafeFileHandle OpenNamespace(string podSandboxId, string path)
    {
        try { return Libc.Open(path, Libc.O_RDONLY); }
        catch (SyscallException e)
        {
            throw new RuntimeException(e.Errno == Errno.ENOENT ? RuntimeErrorKind.FailedPrecondition : RuntimeErrorKind.Internal,
                $"port forward to pod sandbox {podSandboxId}: its network namespace {path} cannot be opened: {e.Message}", e);
        }
    }
}
