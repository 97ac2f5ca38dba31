namespace Crisp.Server.Streaming.Spdy;

/// <summary>
/// One stream the peer opened with SYN_STREAM. Reply before sending anything: spdystream drops
/// DATA (even a FIN) that reaches it before the SYN_REPLY, and the k8s client waits for each
/// stream's reply before opening the next, so reply to every stream as soon as it arrives.
/// </summary>
public sealed class SpdyStream
{
    private readonly SpdyConnection _connection;
    private readonly object _gate = new();
    private IReadOnlyDictionary<string, string> _headers;
    private bool _replied;
    private bool _localClosed;
    private bool _reset;
    private bool _resetByPeer;
    private bool _remoteClosed;

    internal SpdyStream(SpdyConnection connection, int id, IReadOnlyDictionary<string, string> headers,
        bool remoteFin, bool unidirectional, int inboundLimit)
    {
        _connection = connection;
        Id = id;
        _headers = headers;
        Inbound = new SpdyInboundBuffer(inboundLimit);
        Data = new SpdyStreamData(this);
        if (remoteFin) OnRemoteClosed();
        // A unidirectional stream may not be answered at all: our half is closed from the start.
        if (unidirectional) (_replied, _localClosed) = (true, true);
    }

    public int Id { get; }

    /// <summary>The SYN_STREAM's headers (lower-case names), with any later HEADERS frames merged in.</summary>
    public IReadOnlyDictionary<string, string> Headers => Volatile.Read(ref _headers);

    /// <summary>Read: the peer's DATA bytes, 0 once the peer sent FIN or reset the stream (or the
    /// connection ended). Write: DATA frames of at most 16 KiB; only after <see cref="ReplyAsync"/>.
    /// Disposing it drops whatever the peer still sends, so an unread stream cannot stall the connection.</summary>
    public Stream Data { get; }

    /// <summary>The peer will send no more data on this stream (FIN, reset or connection end).</summary>
    public bool RemoteClosed
    {
        get { lock (_gate) return _remoteClosed; }
    }

    /// <summary>The peer sent RST_STREAM for this stream.</summary>
    public bool ResetByPeer
    {
        get { lock (_gate) return _resetByPeer; }
    }

    internal SpdyInboundBuffer Inbound { get; }

    /// <summary>Sends SYN_REPLY; names are lower-cased. With <paramref name="fin"/> our half closes at once.</summary>
    public Task ReplyAsync(IReadOnlyDictionary<string, string> headers, bool fin, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(headers);
        return _connection.SendReplyAsync(this, SpdyHeaderBlock.NormalizeForReply(headers), fin, ct);
    }

    /// <summary>Half-closes our side with an empty DATA frame carrying FIN; a second call does nothing.</summary>
    public Task CloseWriteAsync(CancellationToken ct) => _connection.SendDataAsync(this, ReadOnlyMemory<byte>.Empty, fin: true, ct);

    /// <summary>Sends RST_STREAM (see <see cref="SpdyResetStatus"/>) and closes both directions; no-op if already reset or closed.</summary>
    public Task ResetAsync(int statusCode, CancellationToken ct)
    {
        if (!SpdyResetStatus.IsValid(statusCode))
            throw new ArgumentOutOfRangeException(nameof(statusCode), statusCode, "RST_STREAM status must be 1..11");
        return _connection.SendResetAsync(this, statusCode, ct);
    }

    public override string ToString() => $"SPDY stream {Id}";

    // The methods below run under the connection's writer lock, so a check and the frame it
    // allows go out together: no DATA can slip in after our FIN or RST_STREAM.

    internal void EnsureCanReply()
    {
        lock (_gate)
        {
            if (_reset) throw ResetError();
            if (_replied) throw new InvalidOperationException($"{this} already has a reply");
        }
    }

    internal void MarkReplied(bool fin)
    {
        lock (_gate)
        {
            _replied = true;
            _localClosed |= fin;
        }
    }

    /// <summary>False when a FIN is asked for on a side that is already closed (idempotent close).</summary>
    internal bool EnsureCanSendData(bool fin)
    {
        lock (_gate)
        {
            if (_reset) throw ResetError();
            if (_localClosed)
            {
                if (fin) return false;
                throw new InvalidOperationException($"{this}: write after our side was closed");
            }
            if (!_replied) throw new InvalidOperationException($"{this}: DATA before SYN_REPLY would be dropped by the peer; call ReplyAsync first");
            return true;
        }
    }

    internal void MarkLocalClosed()
    {
        lock (_gate) _localClosed = true;
    }

    /// <summary>False when the stream is already reset or fully closed, so no RST_STREAM is due.</summary>
    internal bool TryBeginReset()
    {
        lock (_gate)
        {
            if (_reset || (_localClosed && _remoteClosed)) return false;
            _reset = true;
        }
        Inbound.Discard();
        return true;
    }

    internal void OnPeerReset()
    {
        lock (_gate)
        {
            _reset = true;
            _resetByPeer = true;
            _remoteClosed = true;
        }
        Inbound.Discard();
    }

    /// <summary>FIN from the peer, or the connection ended: reads drain what is buffered, then end.</summary>
    internal void OnRemoteClosed()
    {
        lock (_gate) _remoteClosed = true;
        Inbound.Complete();
    }

    internal void MergeHeaders(IReadOnlyDictionary<string, string> more)
    {
        var merged = new Dictionary<string, string>(Headers.Count + more.Count, StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in Headers) merged[name] = value;
        foreach (var (name, value) in more) merged[name] = value;
        Volatile.Write(ref _headers, merged);
    }

    /// <summary>Both halves closed, or reset: the connection may forget the stream.</summary>
    internal bool IsFinished
    {
        get { lock (_gate) return _reset || (_localClosed && _remoteClosed); }
    }

    internal Task SendDataAsync(ReadOnlyMemory<byte> data, CancellationToken ct) => _connection.SendDataAsync(this, data, fin: false, ct);

    private IOException ResetError() =>
        new(_resetByPeer ? $"{this} was reset by the peer" : $"{this} was reset");
}
