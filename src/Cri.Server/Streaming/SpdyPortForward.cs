using System.Globalization;
using System.Text;
using Crisp.Cri.V1;
using Crisp.Runtime;
using Crisp.Server.Streaming.Spdy;
using Microsoft.Extensions.Logging;

namespace Crisp.Server.Streaming;

/// <summary>
/// portforward.k8s.io over SPDY (kubectl port-forward through the kubelet, crictl, critest): for every forwarded
/// connection the client opens an "error" and a "data" stream sharing a requestid and naming the port; crisp
/// connects to that port inside the pod's network namespace and copies bytes both ways. Streams are paired by
/// <see cref="PortForwardStreamPairs"/> (bounded, timed out).
/// </summary>
public sealed partial class SpdyPortForward(ContainerRuntime runtime, ILogger logger)
{
    public async Task RunAsync(SpdyConnection connection, PortForwardRequest request, CancellationToken ct)
    {
        using var pairs = new PortForwardStreamPairs(logger);
        var forwards = new List<Task>();
        await foreach (var stream in connection.IncomingStreams.ReadAllAsync(ct).ConfigureAwait(false))
        {
            var type = stream.Headers.GetValueOrDefault("streamtype", "");
            var requestId = stream.Headers.GetValueOrDefault("requestid", "");
            if (type is not ("data" or "error"))
            {
                await stream.ResetAsync(SpdyRemoteCommandTransport.RefusedStream, ct).ConfigureAwait(false);
                continue;
            }
            await stream.ReplyAsync(SpdyRemoteCommandTransport.NoHeaders, fin: false, ct).ConfigureAwait(false);
            if (await pairs.AddAsync(stream, type == "data", requestId, ct).ConfigureAwait(false) is { } pair)
                forwards.Add(ForwardAsync(request, pair.Data, pair.Error, ct));
        }
        await Task.WhenAll(forwards).ConfigureAwait(false);
    }

    private async Task ForwardAsync(PortForwardRequest request, SpdyStream data, SpdyStream error, CancellationToken ct)
    {
        var portText = data.Headers.GetValueOrDefault("port", "");
        try
        {
            var port = PortForwardPorts.Parse(portText, request);
            await runtime.PortForwardAsync(request.PodSandboxId, port, data.Data, ct).ConfigureAwait(false);
            await data.CloseWriteAsync(ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogForwardFailed(logger, e, request.PodSandboxId, portText);
            try
            {
                var message = $"error forwarding port {portText} to pod {request.PodSandboxId}: {e.Message}";
                await error.Data.WriteAsync(Encoding.UTF8.GetBytes(message), ct).ConfigureAwait(false);
                await data.ResetAsync(SpdyRemoteCommandTransport.RefusedStream, ct).ConfigureAwait(false);
            }
            catch (IOException) { }
        }
        finally
        {
            try { await error.CloseWriteAsync(ct).ConfigureAwait(false); }
            catch (IOException) { }
            // Whatever the client still sends on this stream has nowhere to go; unread, it would fill the
            // connection's inbound buffer and stall every other stream of the connection.
            await data.Data.DisposeAsync().ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Port forward to pod sandbox {SandboxId} port {Port} failed")]
    private static partial void LogForwardFailed(ILogger logger, Exception exception, string sandboxId, string port);
}

/// <summary>Which ports a port-forward session may open.</summary>
public static class PortForwardPorts
{
    /// <summary>The port the client asked for; it must be one the PortForward request listed (when it listed any).</summary>
    public static int Parse(string text, PortForwardRequest request)
    {
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
            throw new ArgumentException($"\"{text}\" is not a valid port");
        if (request.Port.Count > 0 && !request.Port.Contains(port))
            throw new ArgumentException($"port {port} was not requested (PortForward allowed {string.Join(", ", request.Port)})");
        return port;
    }
}
