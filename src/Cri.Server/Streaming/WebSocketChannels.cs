using System.Buffers;
using System.IO.Pipelines;
using System.Net.WebSockets;
using Crisp.Server.Limits;

namespace Crisp.Server.Streaming;

/// <summary>
/// The Kubernetes channel protocol over one WebSocket (k8s.io/apimachinery wsstream, "*.channel.k8s.io" and
/// portforward): each binary message starts with a channel byte; in v5 a message [255, channel] closes that
/// channel for writing. Incoming channels become readable streams, outgoing ones writable streams.
/// </summary>
public sealed class WebSocketChannels : IAsyncDisposable
{
    private const byte CloseSignal = 255;
    private const int MaxSentMessage = 64 * 1024;
    private const int ReceiveChunk = 16 * 1024;
    private static readonly TimeSpan ClientCloseGrace = TimeSpan.FromSeconds(5);

    /// <summary>Unread bytes per channel (plus the chunk in flight) before the receive loop waits for the reader.</summary>
    private static readonly PipeOptions IncomingPipeOptions = new(
        pauseWriterThreshold: ClientLimits.WebSocketMaxBufferedBytesPerChannel,
        resumeWriterThreshold: ClientLimits.WebSocketMaxBufferedBytesPerChannel / 2,
        useSynchronizationContext: false);

    private readonly WebSocket _socket;
    private readonly bool _closeSignals;
    private readonly Dictionary<byte, Pipe> _incoming = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);

    /// <param name="incomingChannels">Channels the client writes (stdin, resize, port data); others are ignored.</param>
    /// <param name="closeSignals">v5.channel.k8s.io: the client half-closes channels with [255, channel].</param>
    public WebSocketChannels(WebSocket socket, IEnumerable<byte> incomingChannels, bool closeSignals)
    {
        _socket = socket;
        _closeSignals = closeSignals;
        foreach (var channel in incomingChannels) _incoming[channel] = new Pipe(IncomingPipeOptions);
    }

    public Stream Reader(byte channel) => _incoming[channel].Reader.AsStream();

    public Stream Writer(byte channel) => new ChannelWriteStream(this, channel);

    /// <summary>
    /// Pumps client messages into the incoming channels until the client closes or <paramref name="ct"/> fires.
    /// A message is forwarded chunk by chunk as it arrives, so its size is not limited by a buffer.
    /// </summary>
    public async Task ReceiveAsync(CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ReceiveChunk);
        try
        {
            int? channel = null; // of the message being received; null between messages
            while (_socket.State == WebSocketState.Open)
            {
                var result = await _socket.ReceiveAsync(buffer.AsMemory(0, ReceiveChunk), ct).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close) break;
                var data = buffer.AsMemory(0, result.Count);
                if (channel is null && data.Length > 0)
                {
                    channel = data.Span[0];
                    data = data[1..];
                    if (channel == CloseSignal && _closeSignals)
                    {
                        if (data.Length > 0 && _incoming.TryGetValue(data.Span[0], out var closed))
                            await closed.Writer.CompleteAsync().ConfigureAwait(false);
                        data = Memory<byte>.Empty;
                    }
                }
                if (channel is { } c && data.Length > 0 && _incoming.TryGetValue((byte)c, out var pipe))
                    await pipe.Writer.WriteAsync(data, ct).ConfigureAwait(false);
                if (result.EndOfMessage) channel = null;
            }
        }
        catch (WebSocketException) { }
        catch (OperationCanceledException) { }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            foreach (var pipe in _incoming.Values) await pipe.Writer.CompleteAsync().ConfigureAwait(false);
        }
    }

    public async Task SendAsync(byte channel, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        var message = ArrayPool<byte>.Shared.Rent(data.Length + 1);
        try
        {
            message[0] = channel;
            data.CopyTo(message.AsMemory(1));
            await _sendLock.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                if (_socket.State != WebSocketState.Open && _socket.State != WebSocketState.CloseReceived)
                    throw new IOException($"the WebSocket is {_socket.State}; channel {channel} cannot be written");
                // Never cancel a send in flight: a cancelled WebSocket send aborts the whole connection, and with it
                // every other channel (the status still to be written, the other direction of a port forward).
                await _socket.SendAsync(message.AsMemory(0, data.Length + 1), WebSocketMessageType.Binary, true, CancellationToken.None).ConfigureAwait(false);
            }
            finally
            {
                _sendLock.Release();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(message);
        }
    }

    public async Task CloseAsync(CancellationToken ct)
    {
        await _sendLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, ct).ConfigureAwait(false);
        }
        catch (WebSocketException) { }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>
    /// After our close frame, waits (briefly) for the client's: disposing a socket mid-handshake aborts it, and the
    /// TCP reset that follows can destroy the last messages (the exit status) before the client has read them.
    /// </summary>
    public async Task WaitForClientCloseAsync(Task receiving)
    {
        try { await receiving.WaitAsync(ClientCloseGrace).ConfigureAwait(false); }
        catch (TimeoutException) { }
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        _sendLock.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>A write-only stream whose writes become messages on one channel.</summary>
    private sealed class ChannelWriteStream(WebSocketChannels owner, byte channel) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("use WriteAsync");

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            while (buffer.Length > 0)
            {
                var chunk = buffer[..Math.Min(buffer.Length, MaxSentMessage - 1)];
                await owner.SendAsync(channel, chunk, cancellationToken).ConfigureAwait(false);
                buffer = buffer[chunk.Length..];
            }
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }
}
