using Crisp.ImageService.Pull;
using Xunit;

namespace Crisp.ImageService.Tests.Pull;

public sealed class StallWatchdogTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(300);

    [Fact]
    public async Task AReadThatGetsNoBytesIsCancelledAfterTheTimeout()
    {
        using var cancellation = new CancellationTokenSource();
        using var watchdog = new StallWatchdog(Timeout, cancellation);
        Stream network = watchdog.Watch(new SilentStream());
        var started = System.Diagnostics.Stopwatch.StartNew();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => network.ReadAsync(new byte[16], cancellation.Token).AsTask());

        Assert.True(watchdog.Stalled);
        Assert.InRange(started.Elapsed, Timeout, Timeout * 10);
    }

    [Fact]
    public async Task TimeSpentOutsideNetworkReadsDoesNotCount()
    {
        using var cancellation = new CancellationTokenSource();
        using var watchdog = new StallWatchdog(Timeout, cancellation);
        Stream network = watchdog.Watch(new MemoryStream(new byte[64]));
        var buffer = new byte[8];

        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(8, await network.ReadAsync(buffer, cancellation.Token));
            await Task.Delay(Timeout); // "unpacking": slower than the timeout, but no read is outstanding
        }

        Assert.False(watchdog.Stalled);
        Assert.False(cancellation.IsCancellationRequested);
        Assert.Equal(32, watchdog.Bytes);
    }

    [Fact]
    public async Task SlowButSteadyBytesKeepTheDownloadAlive()
    {
        // A wide margin between the trickle and the timeout: a loaded CI machine delays timers by
        // hundreds of milliseconds, and only a gap longer than the timeout may count as a stall.
        TimeSpan timeout = TimeSpan.FromSeconds(1.5);
        using var cancellation = new CancellationTokenSource();
        using var watchdog = new StallWatchdog(timeout, cancellation);
        Stream network = watchdog.Watch(new TricklingStream(TimeSpan.FromMilliseconds(100), chunks: 6));
        var buffer = new byte[8];

        int total = 0, read;
        while ((read = await network.ReadAsync(buffer, cancellation.Token)) > 0) total += read;

        Assert.Equal(6, total);
        Assert.False(watchdog.Stalled);
    }

    [Fact]
    public async Task AnOpenThatNeverAnswersIsCancelled()
    {
        using var cancellation = new CancellationTokenSource();
        using var watchdog = new StallWatchdog(Timeout, cancellation);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            watchdog.WaitAsync(() => Task.Delay(System.Threading.Timeout.Infinite, cancellation.Token).ContinueWith(_ => 0, cancellation.Token)));

        Assert.True(watchdog.Stalled);
    }

    private sealed class SilentStream : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => 0; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await Task.Delay(System.Threading.Timeout.Infinite, cancellationToken);
            return 0;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private sealed class TricklingStream(TimeSpan interval, int chunks) : Stream
    {
        private int _left = chunks;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => 0; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_left-- <= 0) return 0;
            await Task.Delay(interval, cancellationToken);
            buffer.Span[0] = 1;
            return 1;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
