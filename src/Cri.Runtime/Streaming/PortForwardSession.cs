using System.Net.Sockets;

namespace Crisp.Runtime.Streaming;

/// <summary>
/// One forwarded connection: bytes both ways between the client's stream and a TCP connection to the pod.
/// The session ends when the pod side is done sending (its FIN, or an error): the caller then ends the client's
/// stream, which is how the client learns the pod closed. The client's end of input only half-closes the pod
/// connection, so a pod still answering a request it read to EOF is heard to the end.
/// </summary>
internal static class PortForwardSession
{
    public static async Task PipeAsync(Socket pod, Stream client, CancellationToken ct)
    {
        using var session = CancellationTokenSource.CreateLinkedTokenSource(ct);
        await using var network = new NetworkStream(pod, ownsSocket: false);
        var toPod = ClientToPodAsync(client, network, pod, session.Token);
        try
        {
            await new StreamPump().CopyAsync(network, client, ct).ConfigureAwait(false);
        }
        finally
        {
            await session.CancelAsync().ConfigureAwait(false);
            try { await toPod.WaitAsync(TimeSpan.FromSeconds(2), CancellationToken.None).ConfigureAwait(false); }
            catch (Exception e) when (e is TimeoutException or OperationCanceledException or IOException or ObjectDisposedException) { }
        }
    }

    private static async Task ClientToPodAsync(Stream client, NetworkStream network, Socket pod, CancellationToken ct)
    {
        await new StreamPump().CopyAsync(client, network, ct).ConfigureAwait(false);
        if (ct.IsCancellationRequested) return;
        try { pod.Shutdown(SocketShutdown.Send); }
        catch (SocketException) { }
        catch (ObjectDisposedException) { }
    }
}
