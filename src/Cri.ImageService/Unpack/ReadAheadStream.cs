using System.IO.Pipelines;

namespace Crisp.ImageService.Unpack;

/// <summary>
/// Reads its source ahead on a task of its own into a bounded buffer, so that receiving a layer
/// (and hashing its compressed bytes) runs while the consumer inflates and writes the files of
/// what already arrived: without it, the socket sits unread while a file is written.
/// The consumer sees the source's bytes in order and then the source's own end; an error the
/// source raises (a digest mismatch found at its last byte, a cancelled download) reaches the
/// consumer instead of that end, so reading to the end still means the source verified.
/// At most <see cref="MaxBufferedBytes"/> are read ahead of the consumer; disposing stops the
/// reading and waits for it, so the caller may dispose the source right after.
/// </summary>
internal sealed class ReadAheadStream : Stream
{
    /// <summary>How far the source may run ahead of the consumer (per layer being unpacked).</summary>
    internal const int MaxBufferedBytes = 1024 * 1024;

    /// <summary>One source read asks for this much: large enough that per-read costs (timers, locks) vanish.</summary>
    internal const int ChunkBytes = 128 * 1024;

    private readonly Pipe _pipe = new(new PipeOptions(
        pauseWriterThreshold: MaxBufferedBytes, resumeWriterThreshold: MaxBufferedBytes / 2,
        minimumSegmentSize: ChunkBytes, useSynchronizationContext: false));
    private readonly CancellationTokenSource _stop;
    private readonly Stream _buffered;
    private readonly Task _reading;
    private long _sourceBytes;
    private bool _disposed;

    /// <param name="source">Read to its end (or until this stream is disposed); not disposed here.</param>
    /// <param name="cancellationToken">Stops reading the source; the consumer then sees the cancellation.</param>
    public ReadAheadStream(Stream source, CancellationToken cancellationToken)
    {
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _buffered = _pipe.Reader.AsStream(leaveOpen: true);
        _reading = Task.Run(() => ReadSourceAsync(source, _stop.Token), CancellationToken.None);
    }

    /// <summary>Bytes the source delivered so far (ahead of, or equal to, what the consumer read).</summary>
    public long SourceBytes => Interlocked.Read(ref _sourceBytes);

    private async Task ReadSourceAsync(Stream source, CancellationToken cancellationToken)
    {
        PipeWriter writer = _pipe.Writer;
        try
        {
            while (true)
            {
                int read = await source.ReadAsync(writer.GetMemory(ChunkBytes), cancellationToken).ConfigureAwait(false);
                if (read == 0) break;
                writer.Advance(read);
                Interlocked.Add(ref _sourceBytes, read);
                FlushResult flushed = await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
                if (flushed.IsCompleted) break; // the consumer stopped reading
            }
            await writer.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            await writer.CompleteAsync(ex).ConfigureAwait(false);
        }
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) =>
        throw new NotSupportedException("a read-ahead layer stream is read asynchronously");

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _buffered.ReadAsync(buffer, cancellationToken);
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) DisposeAsync().AsTask().GetAwaiter().GetResult();
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        // Completing the reader ends a reading task waiting for room; cancelling ends one waiting on the source.
        await _pipe.Reader.CompleteAsync().ConfigureAwait(false);
        await _stop.CancelAsync().ConfigureAwait(false);
        await _reading.ConfigureAwait(false);
        await _buffered.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
        GC.SuppressFinalize(this);
    }
}
