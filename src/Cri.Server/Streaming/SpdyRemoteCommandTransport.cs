using System.Threading.Channels;
using Crisp.Runtime.Streaming;
using Crisp.Server.Limits;
using Crisp.Server.Streaming.Spdy;
using Microsoft.Extensions.Logging;

namespace Crisp.Server.Streaming;

/// <summary>
/// Exec/attach over SPDY/3.1 (client-go's remotecommand, as kubectl via the kubelet, crictl and critest use it): the
/// client opens one SPDY stream per channel, each tagged with a "streamtype" header, and the server replies to each.
/// </summary>
public sealed class SpdyRemoteCommandTransport : RemoteCommandTransport
{
    private static readonly TimeSpan StreamCreationTimeout = ClientLimits.StreamCreationTimeout;
    /// <summary>SPDY/3 RST_STREAM status REFUSED_STREAM: a stream this session did not ask for.</summary>
    internal const int RefusedStream = 3;
    internal static readonly IReadOnlyDictionary<string, string> NoHeaders = new Dictionary<string, string>();

    private readonly Dictionary<string, SpdyStream> _streams;
    private readonly Task _resizePump;

    private SpdyRemoteCommandTransport(Dictionary<string, SpdyStream> streams, Task resizePump)
    {
        _streams = streams;
        _resizePump = resizePump;
    }

    public static async Task<SpdyRemoteCommandTransport> AcceptAsync(
        SpdyConnection connection, string version, RemoteCommandStreamSet wanted, ILogger logger, CancellationToken ct)
    {
        var expected = new HashSet<string>(StringComparer.Ordinal) { "error" };
        if (wanted.Stdin) expected.Add("stdin");
        if (wanted.Stdout) expected.Add("stdout");
        if (wanted.HasStderr) expected.Add("stderr");
        if (wanted.Tty && RemoteCommandProtocol.SupportsResize(version)) expected.Add("resize");

        var streams = new Dictionary<string, SpdyStream>(StringComparer.Ordinal);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(StreamCreationTimeout);
        try
        {
            while (!expected.IsSubsetOf(streams.Keys))
            {
                var stream = await connection.IncomingStreams.ReadAsync(timeout.Token).ConfigureAwait(false);
                var type = stream.Headers.GetValueOrDefault("streamtype", "");
                if (!expected.Contains(type) || streams.ContainsKey(type))
                {
                    await stream.ResetAsync(RefusedStream, ct).ConfigureAwait(false);
                    continue;
                }
                await stream.ReplyAsync(NoHeaders, fin: false, ct).ConfigureAwait(false);
                streams[type] = stream;
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException(
                $"the client opened [{string.Join(", ", streams.Keys)}] of the streams [{string.Join(", ", expected)}] within {StreamCreationTimeout.TotalSeconds:0}s");
        }
        catch (ChannelClosedException)
        {
            throw new IOException($"the client closed the connection after opening [{string.Join(", ", streams.Keys)}] of [{string.Join(", ", expected)}]");
        }

        Channel<TerminalSize>? sizes = null;
        var resizePump = Task.CompletedTask;
        if (streams.TryGetValue("resize", out var resize))
        {
            sizes = ResizeDecoder.CreateSizeChannel();
            resizePump = ResizeDecoder.PumpAsync(resize.Data, sizes.Writer, logger, connection.DisposeAsync, ct);
        }
        return new SpdyRemoteCommandTransport(streams, resizePump)
        {
            ProtocolVersion = version,
            Io = new StreamingIo
            {
                Stdin = streams.GetValueOrDefault("stdin")?.Data,
                Stdout = streams.GetValueOrDefault("stdout")?.Data,
                Stderr = streams.GetValueOrDefault("stderr")?.Data,
                Resize = sizes?.Reader,
            },
        };
    }

    public override async Task FinishAsync(byte[] status, CancellationToken ct)
    {
        foreach (var type in new[] { "stdout", "stderr" })
            if (_streams.TryGetValue(type, out var output)) await output.CloseWriteAsync(ct).ConfigureAwait(false);
        var error = _streams["error"];
        if (status.Length > 0) await error.Data.WriteAsync(status, ct).ConfigureAwait(false);
        await error.CloseWriteAsync(ct).ConfigureAwait(false);
    }

    public override async ValueTask DisposeAsync()
    {
        try { await _resizePump.ConfigureAwait(false); }
        catch (Exception) { /* the pump ends with the connection; nothing left to report */ }
    }
}
