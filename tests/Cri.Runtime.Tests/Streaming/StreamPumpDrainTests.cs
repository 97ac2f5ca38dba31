using Crisp.Runtime.Streaming;
using Xunit;

namespace Crisp.Runtime.Tests.Streaming;

public sealed class StreamPumpDrainTests
{
    private static readonly TimeSpan Idle = TimeSpan.FromMilliseconds(50);

    /// <summary>A source that never delivers: the pump stays in its read, as one not yet scheduled on a loaded node.</summary>
    private static (StreamPump, Task) Stalled(CancellationToken ct)
    {
        var pump = new StreamPump();
        var never = new TaskCompletionSource<int>();
        var source = new Stalling(never.Task);
        return (pump, pump.CopyAsync(source, Stream.Null, ct));
    }

    [Fact]
    public async Task A_drain_does_not_call_a_pipe_idle_while_it_still_holds_unread_bytes()
    {
        using var stop = new CancellationTokenSource();
        var pumps = new[] { Stalled(stop.Token) };
        var checks = 0;

        await StreamPump.DrainAsync(pumps, Idle, CancellationToken.None, () => ++checks < 4);

        Assert.Equal(4, checks);
        stop.Cancel();
    }

    [Fact]
    public async Task Without_unread_bytes_one_quiet_period_ends_the_drain()
    {
        using var stop = new CancellationTokenSource();
        var pumps = new[] { Stalled(stop.Token) };
        var checks = 0;

        await StreamPump.DrainAsync(pumps, Idle, CancellationToken.None, () => { checks++; return false; });

        Assert.Equal(1, checks);
        stop.Cancel();
    }

    [Fact]
    public async Task The_drain_deadline_bounds_the_wait_for_unread_bytes()
    {
        using var stop = new CancellationTokenSource();
        var pumps = new[] { Stalled(stop.Token) };
        using var deadline = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        await StreamPump.DrainAsync(pumps, Idle, deadline.Token, () => true);

        Assert.True(deadline.IsCancellationRequested);
        stop.Cancel();
    }

    private sealed class Stalling(Task<int> never) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            await never.WaitAsync(cancellationToken);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
