using System.Buffers;
using System.Collections.Concurrent;
using System.Threading.Channels;
using Crisp.Server.Limits;
using Microsoft.Extensions.Logging;

namespace Crisp.Server.Streaming.Spdy;

/// <summary>
/// Server side of a SPDY/3.1 connection as spoken by github.com/moby/spdystream (the k8s
/// client-go remotecommand / portforward transports used by kubelet, crictl and critest).
/// Hand-written because no maintained .NET library speaks SPDY/3.1.
/// <para>
/// Flow control: spdystream neither sends WINDOW_UPDATE nor honours SPDY windows, so we do not
/// either — WINDOW_UPDATE and SETTINGS (initial window) are accepted and ignored, our DATA is
/// never held back waiting for a window (waiting would stall the Go client forever after 64 KiB),
/// and we advertise no windows. Back-pressure is TCP's: when the application leaves more than
/// <see cref="InboundBufferLimit"/> bytes unread on one stream the read loop pauses, which pauses
/// every stream of this connection, as spdystream's own per-partition handling does.
/// </para>
/// <para>
/// Bounds (<see cref="ClientLimits"/>): streams open at once, unread bytes per stream, DATA and
/// control frame sizes, inflated header blocks. A peer breaking one gets GOAWAY and is dropped.
/// </para>
/// </summary>
public sealed class SpdyConnection : IAsyncDisposable
{
    private const int NotStarted = 0, Running = 1, Disposed = 2;

    private readonly Stream _transport;
    private readonly ILogger _logger;
    private readonly SpdyFrameReader _reader;
    private readonly SpdyFrameWriter _writer;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CancellationTokenSource _lifetime = new();
    private readonly Channel<SpdyStream> _incoming =
        Channel.CreateUnbounded<SpdyStream>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly ConcurrentDictionary<int, SpdyStream> _streams = new();
    private int _runState;
    private int _disposed;
    private bool _writerClosed;
    private bool _goAwaySent;
    private int _lastPeerStreamId;

    /// <param name="transport">The raw duplex stream after HTTP/1.1 101 Switching Protocols (server side).</param>
    public SpdyConnection(Stream transport, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(logger);
        _transport = transport;
        _logger = logger;
        _reader = new SpdyFrameReader(transport);
        _writer = new SpdyFrameWriter(transport);
    }

    /// <summary>SYN_STREAMs opened by the client, in arrival order; completed when <see cref="RunAsync"/> ends.</summary>
    public ChannelReader<SpdyStream> IncomingStreams => _incoming.Reader;

    /// <summary>Unread bytes one stream may hold before the read loop waits for the application.</summary>
    internal int InboundBufferLimit { get; init; } = ClientLimits.SpdyMaxBufferedBytesPerStream;

    /// <summary>Streams open at once; one more SYN_STREAM drops the connection.</summary>
    internal int MaxConcurrentStreams { get; init; } = ClientLimits.SpdyMaxConcurrentStreams;

    /// <summary>
    /// Reads frames until the peer closes the connection or sends GOAWAY (returns normally; a
    /// broken transport counts as closed), until <paramref name="ct"/> (OperationCanceledException)
    /// or <see cref="DisposeAsync"/> (returns normally), or until the peer breaks the protocol or a
    /// limit (GOAWAY PROTOCOL_ERROR is sent, then <see cref="SpdyProtocolException"/> or
    /// <see cref="ClientLimitExceededException"/>, the latter logged by limit name). In every case
    /// <see cref="IncomingStreams"/> is completed and every stream's Data reads end; streams can
    /// still write until the connection is disposed.
    /// </summary>
    public async Task RunAsync(CancellationToken ct)
    {
        var state = Interlocked.CompareExchange(ref _runState, Running, NotStarted);
        ObjectDisposedException.ThrowIf(state == Disposed, this);
        if (state == Running) throw new InvalidOperationException("SpdyConnection.RunAsync may run only once");

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, _lifetime.Token);
        var token = linked.Token;
        try
        {
            while (true)
            {
                SpdyFrame? frame;
                try
                {
                    frame = await _reader.ReadAsync(token).ConfigureAwait(false);
                    if (frame is null)
                    {
                        SpdyLog.PeerClosed(_logger);
                        return;
                    }
                    if (frame is GoAwayFrame goAway)
                    {
                        SpdyLog.GoAwayReceived(_logger, goAway.LastGoodStreamId, goAway.Status);
                        return;
                    }
                    await HandleFrameAsync(frame, token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException and not (SpdyProtocolException or ClientLimitExceededException) or ObjectDisposedException)
                {
                    // A transport that breaks or is disposed under us is a closed connection, not a failure.
                    ct.ThrowIfCancellationRequested();
                    SpdyLog.ReadFailed(_logger, ex);
                    return;
                }
            }
        }
        catch (ClientLimitExceededException ex)
        {
            LimitLog.Exceeded(_logger, ex.Limit, ex.Value, ex.Detail);
            await TrySendGoAwayAsync(SpdyProtocol.GoAwayProtocolError, token).ConfigureAwait(false);
            throw;
        }
        catch (SpdyProtocolException ex)
        {
            SpdyLog.ProtocolError(_logger, ex);
            await TrySendGoAwayAsync(SpdyProtocol.GoAwayProtocolError, token).ConfigureAwait(false);
            throw;
        }
        catch (OperationCanceledException) when (_lifetime.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            // DisposeAsync ended the connection: that is a normal end of the read loop.
        }
        finally
        {
            _incoming.Writer.TryComplete();
            foreach (var stream in _streams.Values) stream.OnRemoteClosed();
            _reader.Dispose();
        }
    }

    /// <summary>Sends GOAWAY (status OK) naming the last stream we accepted; later SYN_STREAMs are ignored.</summary>
    public Task GoAwayAsync(CancellationToken ct) => SendGoAwayAsync(SpdyProtocol.GoAwayOk, ct);

    /// <summary>Closes the transport; pending reads end, later writes throw IOException.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _lifetime.CancelAsync().ConfigureAwait(false);
        try
        {
            await _transport.DisposeAsync().ConfigureAwait(false);
        }
        catch (IOException)
        {
            // The peer may already be gone; closing is all we wanted.
        }

        // An in-flight write ends with the transport; only then is the compressor free to release.
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            _writerClosed = true;
            _writer.Dispose();
        }
        finally
        {
            _writeLock.Release();
        }

        foreach (var stream in _streams.Values) stream.OnRemoteClosed();
        _incoming.Writer.TryComplete();
        // The reader's inflater is in use while RunAsync runs; RunAsync releases it itself.
        if (Interlocked.CompareExchange(ref _runState, Disposed, NotStarted) == NotStarted) _reader.Dispose();
    }

    private async ValueTask HandleFrameAsync(SpdyFrame frame, CancellationToken ct)
    {
        switch (frame)
        {
            case DataFrame data:
                await OnDataAsync(data, ct).ConfigureAwait(false);
                break;
            case SynStreamFrame syn:
                await OnSynStreamAsync(syn, ct).ConfigureAwait(false);
                break;
            case RstStreamFrame rst:
                if (_streams.TryRemove(rst.StreamId, out var reset))
                {
                    SpdyLog.StreamResetByPeer(_logger, rst.StreamId, rst.Status);
                    reset.OnPeerReset();
                }
                break;
            case HeadersFrame headers:
                if (_streams.TryGetValue(headers.StreamId, out var target))
                {
                    target.MergeHeaders(headers.Headers);
                    if ((headers.Flags & SpdyProtocol.FlagFin) != 0) OnRemoteFin(target);
                }
                else SpdyLog.UnknownStream(_logger, "HEADERS", headers.StreamId);
                break;
            case PingFrame ping:
                // Odd ids are the client's pings, to be echoed; even ids would answer our own (we send none).
                if ((ping.Id & 1) == 1)
                    await WriteLockedAsync(ping.Id, static (w, id, t) => w.WritePingAsync(id, t), ct).ConfigureAwait(false);
                break;
            case SynReplyFrame reply:
                SpdyLog.UnknownStream(_logger, "SYN_REPLY", reply.StreamId);
                break;
            case SettingsFrame:
                SpdyLog.FrameIgnored(_logger, "SETTINGS");
                break;
            case WindowUpdateFrame:
                SpdyLog.FrameIgnored(_logger, "WINDOW_UPDATE");
                break;
            case UnknownControlFrame unknown:
                SpdyLog.FrameIgnored(_logger, $"control type {unknown.Type}");
                break;
        }
    }

    private async ValueTask OnDataAsync(DataFrame data, CancellationToken ct)
    {
        if (!_streams.TryGetValue(data.StreamId, out var stream))
        {
            ArrayPool<byte>.Shared.Return(data.Buffer);
            SpdyLog.UnknownStream(_logger, "DATA", data.StreamId);
            return;
        }
        await stream.Inbound.EnqueueAsync(data.Buffer, data.Length, ct).ConfigureAwait(false);
        if (data.Fin) OnRemoteFin(stream);
    }

    private async ValueTask OnSynStreamAsync(SynStreamFrame syn, CancellationToken ct)
    {
        // Client streams are odd and strictly increasing (SPDY/3 2.3.2); spdystream resets others.
        if ((syn.StreamId & 1) == 0 || syn.StreamId <= _lastPeerStreamId)
        {
            SpdyLog.StreamRefused(_logger, syn.StreamId, "stream id not odd and increasing");
            await WriteLockedAsync(syn.StreamId,
                static (w, id, t) => w.WriteRstStreamAsync(id, SpdyResetStatus.ProtocolError, t), ct).ConfigureAwait(false);
            return;
        }
        if (Volatile.Read(ref _goAwaySent))
        {
            SpdyLog.StreamRefused(_logger, syn.StreamId, "GOAWAY already sent");
            return;
        }
        if (_streams.Count >= MaxConcurrentStreams)
            throw new ClientLimitExceededException(nameof(ClientLimits.SpdyMaxConcurrentStreams), MaxConcurrentStreams,
                $"SPDY SYN_STREAM {syn.StreamId} with {_streams.Count} streams open");
        Volatile.Write(ref _lastPeerStreamId, syn.StreamId);
        var stream = new SpdyStream(this, syn.StreamId, syn.Headers,
            remoteFin: (syn.Flags & SpdyProtocol.FlagFin) != 0,
            unidirectional: (syn.Flags & SpdyProtocol.FlagUnidirectional) != 0,
            InboundBufferLimit);
        _streams[syn.StreamId] = stream;
        SpdyLog.StreamOpened(_logger, syn.StreamId, syn.Headers.Count);
        _incoming.Writer.TryWrite(stream);
    }

    private void OnRemoteFin(SpdyStream stream)
    {
        stream.OnRemoteClosed();
        ForgetIfFinished(stream);
    }

    internal async Task SendReplyAsync(SpdyStream stream, List<KeyValuePair<string, string>> headers, bool fin, CancellationToken ct)
    {
        await WriteLockedAsync((stream, headers, fin), static async (w, s, t) =>
        {
            s.stream.EnsureCanReply();
            await w.WriteSynReplyAsync(s.stream.Id, s.fin ? SpdyProtocol.FlagFin : (byte)0, s.headers, t).ConfigureAwait(false);
            s.stream.MarkReplied(s.fin);
        }, ct).ConfigureAwait(false);
        ForgetIfFinished(stream);
    }

    internal async Task SendDataAsync(SpdyStream stream, ReadOnlyMemory<byte> data, bool fin, CancellationToken ct)
    {
        if (data.IsEmpty && !fin) return;
        await WriteLockedAsync((stream, data, fin), static async (w, s, t) =>
        {
            if (!s.stream.EnsureCanSendData(s.fin)) return;
            await w.WriteDataAsync(s.stream.Id, s.data.Span, s.fin, t).ConfigureAwait(false);
            if (s.fin) s.stream.MarkLocalClosed();
        }, ct).ConfigureAwait(false);
        if (fin) ForgetIfFinished(stream);
    }

    internal async Task SendResetAsync(SpdyStream stream, int status, CancellationToken ct)
    {
        await WriteLockedAsync((stream, status), static async (w, s, t) =>
        {
            if (!s.stream.TryBeginReset()) return;
            await w.WriteRstStreamAsync(s.stream.Id, s.status, t).ConfigureAwait(false);
        }, ct).ConfigureAwait(false);
        _streams.TryRemove(stream.Id, out _);
    }

    private Task SendGoAwayAsync(int status, CancellationToken ct) =>
        WriteLockedAsync((connection: this, status), static async (w, s, t) =>
        {
            if (Volatile.Read(ref s.connection._goAwaySent)) return;
            await w.WriteGoAwayAsync(Volatile.Read(ref s.connection._lastPeerStreamId), s.status, t).ConfigureAwait(false);
            Volatile.Write(ref s.connection._goAwaySent, true);
        }, ct).AsTask();

    private async ValueTask TrySendGoAwayAsync(int status, CancellationToken ct)
    {
        try
        {
            await SendGoAwayAsync(status, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The connection is being torn down for the protocol error anyway.
        }
    }

    private void ForgetIfFinished(SpdyStream stream)
    {
        if (stream.IsFinished) _streams.TryRemove(stream.Id, out _);
    }

    /// <summary>
    /// Runs one frame write under the writer lock. <paramref name="ct"/> only cancels the wait for
    /// the lock: a frame cut off half-way would corrupt the connection for every stream, so the
    /// write itself only stops when the connection is disposed.
    /// </summary>
    private async ValueTask WriteLockedAsync<TState>(TState state,
        Func<SpdyFrameWriter, TState, CancellationToken, ValueTask> write, CancellationToken ct)
    {
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_writerClosed) throw new IOException("SPDY connection is closed");
            await write(_writer, state, _lifetime.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (_lifetime.IsCancellationRequested)
        {
            throw new IOException("SPDY connection is closed", ex);
        }
        finally
        {
            _writeLock.Release();
        }
    }
}
