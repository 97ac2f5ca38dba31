namespace Crisp.Server.Streaming.Spdy;

/// <summary>
/// <see cref="SpdyStream.Data"/> as a <see cref="Stream"/>, async only: a synchronous Read or
/// Write would block a thread on the network, so those throw.
/// </summary>
internal sealed class SpdyStreamData(SpdyStream stream) : Stream
{
    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        stream.Inbound.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        // Chunks are sent as separate frames so other streams' frames interleave with a big write.
        for (var offset = 0; offset < buffer.Length; offset += SpdyProtocol.MaxDataChunk)
        {
            var chunk = buffer.Slice(offset, Math.Min(SpdyProtocol.MaxDataChunk, buffer.Length - offset));
            await stream.SendDataAsync(chunk, cancellationToken).ConfigureAwait(false);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Every DATA frame is flushed as it is written.</summary>
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override void Flush() { }

    public override int Read(byte[] buffer, int offset, int count) =>
        throw new NotSupportedException("SPDY stream data is async-only; use ReadAsync");

    public override void Write(byte[] buffer, int offset, int count) =>
        throw new NotSupportedException("SPDY stream data is async-only; use WriteAsync");

    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) stream.Inbound.Discard();
        base.Dispose(disposing);
    }
}
