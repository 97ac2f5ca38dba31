using System.Buffers.Binary;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using Crisp.Cri.V1;
using Crisp.Runtime;
using Microsoft.Extensions.Logging;

namespace Crisp.Server.Streaming;

/// <summary>
/// portforward.k8s.io over one WebSocket (the kubelet streaming server's other transport): the ports come in the
/// query (?port=80&amp;port=443); port i uses channel 2i for data and 2i+1 for errors, and each channel opens with the
/// port number (uint16, little endian) written by the server.
/// </summary>
public sealed partial class WebSocketPortForward(ContainerRuntime runtime, ILogger logger)
{
    public async Task RunAsync(WebSocket socket, PortForwardRequest request, IReadOnlyList<string> queryPorts, CancellationToken ct)
    {
        var ports = queryPorts.Select(p => PortForwardPorts.Parse(p, request)).ToList();
        var channels = new WebSocketChannels(socket, Enumerable.Range(0, ports.Count).Select(i => (byte)(2 * i)), closeSignals: false);
        await using (channels.ConfigureAwait(false))
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            // The client leaving ends every forward: a pod that never closes must not keep the session alive.
            var receive = channels.ReceiveAsync(stop.Token).ContinueWith(
                _ => stop.Cancel(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            var portPrefix = new byte[2];
            for (var i = 0; i < ports.Count; i++)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(portPrefix, (ushort)ports[i]);
                await channels.SendAsync((byte)(2 * i), portPrefix, ct).ConfigureAwait(false);
                await channels.SendAsync((byte)(2 * i + 1), portPrefix, ct).ConfigureAwait(false);
            }
            var forwards = ports.Select((port, i) => ForwardAsync(channels, request, port, (byte)(2 * i), stop.Token)).ToList();
            await Task.WhenAll(forwards).ConfigureAwait(false);
            await channels.CloseAsync(ct).ConfigureAwait(false);
            await channels.WaitForClientCloseAsync(receive).ConfigureAwait(false);
            await stop.CancelAsync().ConfigureAwait(false);
            await receive.ConfigureAwait(false);
        }
    }

    private async Task ForwardAsync(WebSocketChannels channels, PortForwardRequest request, int port, byte dataChannel, CancellationToken ct)
    {
        try
        {
            await using var connection = new DuplexStream(channels.Reader(dataChannel), channels.Writer(dataChannel));
            await runtime.PortForwardAsync(request.PodSandboxId, port, connection, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The client went away (or crispd is stopping): nobody to report to.
        }
        catch (Exception e)
        {
            LogForwardFailed(logger, e, request.PodSandboxId, port);
            var message = $"error forwarding port {port.ToString(CultureInfo.InvariantCulture)} to pod {request.PodSandboxId}: {e.Message}";
            await channels.SendAsync((byte)(dataChannel + 1), Encoding.UTF8.GetBytes(message), ct).ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Port forward to pod sandbox {SandboxId} port {Port} failed")]
    private static partial void LogForwardFailed(ILogger logger, Exception exception, string sandboxId, int port);
}
