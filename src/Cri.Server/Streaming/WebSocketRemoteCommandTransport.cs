using System.Net.WebSockets;
using System.Threading.Channels;
using Crisp.Runtime.Streaming;
using Microsoft.Extensions.Logging;
using static Crisp.Server.Streaming.RemoteCommandProtocol;

namespace Crisp.Server.Streaming;

/// <summary>Exec/attach over one WebSocket with the channel protocol (v1 to v5.channel.k8s.io).</summary>
public sealed class WebSocketRemoteCommandTransport : RemoteCommandTransport
{
    private readonly WebSocketChannels _channels;
    private readonly Task _receive;
    private readonly Task _resizePump;
    private readonly CancellationTokenSource _stop;

    private WebSocketRemoteCommandTransport(WebSocketChannels channels, Task receive, Task resizePump, CancellationTokenSource stop)
    {
        _channels = channels;
        _receive = receive;
        _resizePump = resizePump;
        _stop = stop;
    }

    public static WebSocketRemoteCommandTransport Start(WebSocket socket, string version, RemoteCommandStreamSet wanted, ILogger logger, CancellationToken ct)
    {
        var channels = new WebSocketChannels(socket, [StdinChannel, ResizeChannel], closeSignals: version == V5);
        var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        // The client closing (or dropping) the socket ends the session: the command's streams go nowhere any more.
        var receive = channels.ReceiveAsync(stop.Token).ContinueWith(_ => stop.Cancel(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        Channel<TerminalSize>? sizes = null;
        var resizePump = Task.CompletedTask;
        if (wanted.Tty && SupportsResize(version))
        {
            sizes = ResizeDecoder.CreateSizeChannel();
            resizePump = ResizeDecoder.PumpAsync(channels.Reader(ResizeChannel), sizes.Writer, logger, () =>
            {
                socket.Abort();
                stop.Cancel();
                return ValueTask.CompletedTask;
            }, stop.Token);
        }
        return new WebSocketRemoteCommandTransport(channels, receive, resizePump, stop)
        {
            SessionToken = stop.Token,
            ProtocolVersion = version,
            Io = new StreamingIo
            {
                Stdin = wanted.Stdin ? channels.Reader(StdinChannel) : null,
                Stdout = wanted.Stdout ? channels.Writer(StdoutChannel) : null,
                Stderr = wanted.HasStderr ? channels.Writer(StderrChannel) : null,
                Resize = sizes?.Reader,
            },
        };
    }

    public override async Task FinishAsync(byte[] status, CancellationToken ct)
    {
        if (_stop.IsCancellationRequested) return;
        if (status.Length > 0) await _channels.SendAsync(ErrorChannel, status, ct).ConfigureAwait(false);
        await _channels.CloseAsync(ct).ConfigureAwait(false);
    }

    public override async ValueTask DisposeAsync()
    {
        await _channels.WaitForClientCloseAsync(_receive).ConfigureAwait(false);
        await _stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_receive, _resizePump).ConfigureAwait(false);
        await _channels.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }
}
