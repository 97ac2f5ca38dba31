namespace Crisp.ImageService.Pull;

/// <summary>A network stream whose reads report waiting time and arriving bytes to a <see cref="StallWatchdog"/>.</summary>
internal sealed class ProgressStream(Stream inner, StallWatchdog watchdog) : Stream
{
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        watchdog.BeginWait();
        bool answered = false;
        try
        {
            int read = inner.Read(buffer);
            answered = true;
            watchdog.AddBytes(read);
            return read;
        }
        finally
        {
            // End of stream is an answer too: the network is not what we are waiting on any more.
            watchdog.EndWait(answered ? 1 : 0);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        watchdog.BeginWait();
        bool answered = false;
        try
        {
            int read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            answered = true;
            watchdog.AddBytes(read);
            return read;
        }
        finally
        {
            watchdog.EndWait(answered ? 1 : 0);
        }
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }

    public override ValueTask DisposeAsync() => inner.DisposeAsync();
}
