using System.Buffers;

namespace Crisp.Server.Streaming.Spdy;

/// <summary>
/// The bytes a peer sent on one stream and the application has not read yet. The connection's
/// reader loop enqueues DATA payloads (pooled arrays, handed over without copying); a payload
/// that would take the unread bytes past the limit waits until the application reads — spdystream ignores
/// SPDY flow control windows, so pausing the read loop (TCP back-pressure) is the only brake.
/// </summary>
internal sealed class SpdyInboundBuffer(int limit)
{
    private readonly object _gate = new();
    private readonly Queue<(byte[] Buffer, int Length)> _segments = new();
    private int _headOffset;
    private int _buffered;
    private bool _completed;
    private bool _discarding;
    private TaskCompletionSource? _readerWaiting;
    private TaskCompletionSource? _writerWaiting;

    /// <summary>No more data will arrive (FIN, reset, or the connection ended).</summary>
    public bool Completed
    {
        get { lock (_gate) return _completed; }
    }

    /// <summary>Unread bytes held now; never above the limit once a frame fits in it.</summary>
    public int Buffered
    {
        get { lock (_gate) return _buffered; }
    }

    /// <summary>Takes ownership of <paramref name="buffer"/> (from ArrayPool.Shared). Waits until the
    /// segment fits under the limit (or the buffer is empty), so unread data never exceeds it.</summary>
    public async ValueTask EnqueueAsync(byte[] buffer, int length, CancellationToken ct)
    {
        var owned = true;
        try
        {
            while (true)
            {
                Task wait;
                lock (_gate)
                {
                    if (_completed || _discarding || length == 0) return;
                    if (_buffered == 0 || _buffered + length <= limit)
                    {
                        _segments.Enqueue((buffer, length));
                        owned = false;
                        _buffered += length;
                        WakeReader();
                        return;
                    }
                    _writerWaiting ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    wait = _writerWaiting.Task;
                }
                await wait.WaitAsync(ct).ConfigureAwait(false);
            }
        }
        finally
        {
            if (owned) ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The end of the peer's data: reads drain what is buffered, then return 0.</summary>
    public void Complete()
    {
        lock (_gate)
        {
            _completed = true;
            WakeReader();
        }
    }

    /// <summary>Nobody will read any more (reset or disposed): drop buffered and future data so the
    /// connection's read loop never waits on this stream.</summary>
    public void Discard()
    {
        lock (_gate)
        {
            _completed = true;
            _discarding = true;
            while (_segments.TryDequeue(out var segment)) ArrayPool<byte>.Shared.Return(segment.Buffer);
            _headOffset = 0;
            _buffered = 0;
            WakeReader();
            WakeWriter();
        }
    }

    public async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken ct)
    {
        while (true)
        {
            Task wait;
            lock (_gate)
            {
                if (_segments.Count > 0 && destination.Length > 0) return CopyOut(destination.Span);
                if (_completed || destination.Length == 0) return 0;
                _readerWaiting ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = _readerWaiting.Task;
            }
            await wait.WaitAsync(ct).ConfigureAwait(false);
        }
    }

    private int CopyOut(Span<byte> destination)
    {
        var copied = 0;
        while (copied < destination.Length && _segments.TryPeek(out var segment))
        {
            var available = segment.Length - _headOffset;
            var count = Math.Min(available, destination.Length - copied);
            segment.Buffer.AsSpan(_headOffset, count).CopyTo(destination[copied..]);
            copied += count;
            _headOffset += count;
            if (_headOffset == segment.Length)
            {
                _segments.Dequeue();
                ArrayPool<byte>.Shared.Return(segment.Buffer);
                _headOffset = 0;
            }
        }
        _buffered -= copied;
        WakeWriter();
        return copied;
    }

    private void WakeReader()
    {
        _readerWaiting?.TrySetResult();
        _readerWaiting = null;
    }

    private void WakeWriter()
    {
        _writerWaiting?.TrySetResult();
        _writerWaiting = null;
    }
}
