using System.Security.Cryptography;
using Crisp.ImageService.Api;
using Crisp.ImageService.Content;
using Crisp.ImageService.Unpack;
using Xunit;

namespace Crisp.ImageService.Tests.Unpack;

public sealed class ReadAheadStreamTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    /// <summary>A network-like source: short reads of varying size, each counted, optionally waiting on a gate before every read.</summary>
    private sealed class TricklingSource(byte[] content) : Stream
    {
        private readonly Random _sizes = new(7);
        private long _position;

        public SemaphoreSlim? Gate { get; init; }
        public int ReadsAfterCancellation { get; private set; }
        public bool SawCancellation { get; private set; }
        public long Delivered => Interlocked.Read(ref _position);

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                if (Gate is { } gate) await gate.WaitAsync(cancellationToken);
                else await Task.Yield();
                cancellationToken.ThrowIfCancellationRequested();
            }
            catch (OperationCanceledException)
            {
                SawCancellation = true;
                throw;
            }
            if (SawCancellation) ReadsAfterCancellation++;
            int count = (int)Math.Min(Math.Min(buffer.Length, _sizes.Next(1, 40_000)), content.Length - _position);
            content.AsMemory((int)_position, count).CopyTo(buffer);
            Interlocked.Add(ref _position, count);
            return count;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private static byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        new Random(count).NextBytes(bytes);
        return bytes;
    }

    private static async Task<byte[]> ReadToEndInOddSizesAsync(Stream stream)
    {
        var collected = new MemoryStream();
        var buffer = new byte[70_001];
        var sizes = new Random(11);
        int read;
        while ((read = await stream.ReadAsync(buffer.AsMemory(0, sizes.Next(1, buffer.Length)))) > 0) collected.Write(buffer, 0, read);
        return collected.ToArray();
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"waited {Patience} for {what}");
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task DeliversEveryByteInOrderThenTheSourcesEnd()
    {
        byte[] content = RandomBytes(3 * ReadAheadStream.MaxBufferedBytes + 12_345);
        var source = new TricklingSource(content);

        await using var stream = new ReadAheadStream(source, CancellationToken.None);
        byte[] received = await ReadToEndInOddSizesAsync(stream);

        Assert.Equal(content.Length, received.Length);
        Assert.True(content.AsSpan().SequenceEqual(received), "bytes arrived out of order or altered");
        Assert.Equal(0, await stream.ReadAsync(new byte[16]));
    }

    [Fact]
    public async Task ReadsNoFurtherAheadThanItsBound()
    {
        var source = new TricklingSource(RandomBytes(8 * ReadAheadStream.MaxBufferedBytes));

        await using var stream = new ReadAheadStream(source, CancellationToken.None);
        await WaitUntilAsync(() => stream.SourceBytes >= ReadAheadStream.MaxBufferedBytes, "the read-ahead to fill");
        await Task.Delay(300); // a reader ignoring its bound would keep going meanwhile

        Assert.InRange(stream.SourceBytes, ReadAheadStream.MaxBufferedBytes, ReadAheadStream.MaxBufferedBytes + 2L * ReadAheadStream.ChunkBytes);
        long before = stream.SourceBytes;
        var buffer = new byte[ReadAheadStream.MaxBufferedBytes];
        int consumed = 0;
        while (consumed < buffer.Length) consumed += await stream.ReadAsync(buffer.AsMemory(consumed));
        await WaitUntilAsync(() => stream.SourceBytes > before, "reading to resume once the consumer made room");
    }

    [Fact]
    public async Task ADigestMismatchReachesTheConsumerInsteadOfTheEnd()
    {
        byte[] content = RandomBytes(2 * ReadAheadStream.MaxBufferedBytes);
        string digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));
        byte[] lie = (byte[])content.Clone();
        lie[^1] ^= 0xFF; // only the very last byte differs: everything before it looks fine
        var verified = new DigestVerifyingStream(new TricklingSource(lie), digest, content.Length, "blob under test");

        await using var stream = new ReadAheadStream(verified, CancellationToken.None);
        var buffer = new byte[64 * 1024];
        long total = 0;
        var error = await Assert.ThrowsAsync<ImageServiceException>(async () =>
        {
            int read;
            while ((read = await stream.ReadAsync(buffer)) > 0) total += read;
        });

        Assert.Equal(ImageErrorKind.DataLoss, error.Kind);
        Assert.Contains("digest mismatch", error.Message);
        Assert.Contains("blob under test", error.Message);
        Assert.True(total <= content.Length, $"consumer got {total} bytes");
    }

    [Fact]
    public async Task ATruncatedSourceIsAnErrorNotAnEnd()
    {
        byte[] content = RandomBytes(100_000);
        string digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));
        var verified = new DigestVerifyingStream(new TricklingSource(content[..50_000]), digest, content.Length, "blob under test");

        await using var stream = new ReadAheadStream(verified, CancellationToken.None);

        var error = await Assert.ThrowsAsync<ImageServiceException>(() => ReadToEndInOddSizesAsync(stream));
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public async Task CancellingStopsTheSourceAndTheConsumerSeesTheCancellation()
    {
        var gate = new SemaphoreSlim(3);
        var source = new TricklingSource(RandomBytes(ReadAheadStream.MaxBufferedBytes)) { Gate = gate };
        using var cancellation = new CancellationTokenSource();

        var stream = new ReadAheadStream(source, cancellation.Token);
        await WaitUntilAsync(() => source.Delivered > 0, "the first bytes");
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ReadToEndInOddSizesAsync(stream));
        await stream.DisposeAsync();
        Assert.True(source.SawCancellation);
        Assert.Equal(0, source.ReadsAfterCancellation);
    }

    [Fact]
    public async Task DisposingMidStreamStopsReadingBeforeItReturns()
    {
        var gate = new SemaphoreSlim(5);
        var source = new TricklingSource(RandomBytes(4 * ReadAheadStream.MaxBufferedBytes)) { Gate = gate };

        var stream = new ReadAheadStream(source, CancellationToken.None);
        var buffer = new byte[1000];
        Assert.True(await stream.ReadAsync(buffer) > 0);
        await stream.DisposeAsync().AsTask().WaitAsync(Patience);
        long delivered = source.Delivered;
        gate.Release(100); // a reading task still alive would take these

        await Task.Delay(200);
        Assert.Equal(delivered, source.Delivered);
        Assert.True(source.SawCancellation, "the pending source read was not cancelled");
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => _ = await stream.ReadAsync(buffer));
    }
}
