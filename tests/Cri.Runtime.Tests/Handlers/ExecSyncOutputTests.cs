using System.Text;
using Crisp.Runtime.Handlers;
using Crisp.Runtime.Streaming;
using Xunit;

namespace Crisp.Runtime.Tests.Handlers;

/// <summary>The budget ExecSync output is held to while the process runs, and how truncation shows.</summary>
public sealed class ExecSyncOutputTests
{
    [Fact]
    public void Output_that_fits_the_budget_exactly_is_returned_untouched()
    {
        using var output = new ExecSyncOutput(10);
        output.Stdout.Write("hello "u8);
        output.Stderr.Write("oops"u8);
        var (stdout, stderr) = output.ToArrays();
        Assert.Equal("hello ", Encoding.UTF8.GetString(stdout));
        Assert.Equal("oops", Encoding.UTF8.GetString(stderr));
        Assert.Equal(0, output.DroppedBytes);
    }

    [Fact]
    public void Stdout_and_stderr_share_the_budget_in_arrival_order_and_each_truncated_stream_ends_with_a_marker()
    {
        using var output = new ExecSyncOutput(8);
        output.Stdout.Write("123456"u8);
        output.Stderr.Write("abcdef"u8);
        output.Stdout.Write("789"u8);
        var (stdout, stderr) = output.ToArrays();
        Assert.Equal("123456" + output.Marker(3), Encoding.UTF8.GetString(stdout));
        Assert.Equal("ab" + output.Marker(4), Encoding.UTF8.GetString(stderr));
        Assert.Equal(7, output.DroppedBytes);
        Assert.Contains("4 more bytes dropped", output.Marker(4));
        Assert.Contains("limited to 8 bytes", output.Marker(4));
    }

    [Fact]
    public async Task A_flood_is_read_to_its_end_but_never_stored_past_the_budget()
    {
        const int budget = 64 * 1024;
        using var output = new ExecSyncOutput(budget);
        // 64 MiB through the pump that reads an exec's pipes: all of it is consumed (the writer never blocks)...
        await using var flood = new RepeatingStream("y\n"u8.ToArray(), 64L * 1024 * 1024);
        var pump = new StreamPump();
        await pump.CopyAsync(flood, output.Stdout, CancellationToken.None);
        Assert.Equal(64L * 1024 * 1024, pump.Bytes);
        // ...and only the budget is kept.
        var (stdout, stderr) = output.ToArrays();
        Assert.Equal(budget + output.Marker(64L * 1024 * 1024 - budget).Length, stdout.Length);
        Assert.All(stdout.Take(budget).Chunk(2), pair => Assert.Equal("y\n"u8.ToArray(), pair));
        Assert.Empty(stderr);
        Assert.Equal(64L * 1024 * 1024 - budget, output.DroppedBytes);
    }

    [Fact]
    public void The_response_budget_leaves_room_for_framing_and_both_markers()
    {
        using var output = new ExecSyncOutput(ExecSyncOutput.BudgetFor(16 * 1024 * 1024));
        var longest = Encoding.UTF8.GetByteCount(output.Marker(long.MaxValue));
        Assert.True(longest <= ExecSyncOutput.MaxMarkerBytes, $"marker of {longest} bytes");
        Assert.Equal(16 * 1024 * 1024 - ExecSyncOutput.ResponseOverheadBytes, output.BudgetBytes);
        Assert.True(ExecSyncOutput.ResponseOverheadBytes >= 2 * longest + 32);
        Assert.Equal(0, ExecSyncOutput.BudgetFor(100));
    }

    [Fact]
    public void Writes_after_dispose_are_ignored()
    {
        var output = new ExecSyncOutput(16);
        output.Dispose();
        output.Stdout.Write("late"u8);
        Assert.Equal("", output.StderrText(100));
        Assert.Throws<ObjectDisposedException>(() => output.ToArrays());
    }

    /// <summary>A long stream of one repeated pattern, produced without holding it in memory.</summary>
    private sealed class RepeatingStream(byte[] pattern, long length) : Stream
    {
        private long _position;

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, length - _position);
            for (var i = 0; i < n; i++) buffer[offset + i] = pattern[(_position + i) % pattern.Length];
            _position += n;
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
