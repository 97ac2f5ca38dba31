using Xunit;
using System.Buffers;
using System.Text;
using Crisp.Server.Streaming.Spdy;

namespace Crisp.Server.Tests.Streaming.Spdy;

public class SpdyConnectionTests
{
    private static readonly Dictionary<string, string> NoHeaders = new();

    [Fact]
    public async Task TwoStreamsExchangeDataBothWays()
    {
        await using var peer = await SpdyTestPeer.StartAsync();
        await peer.OpenAsync(1, ("streamtype", "error"), ("requestid", "0"));
        var error = await peer.AcceptAsync();
        await error.ReplyAsync(NoHeaders, fin: false, peer.Token);
        Assert.Equal(1, (await peer.NextFrameAsync<SynReplyFrame>()).StreamId);

        await peer.OpenAsync(3, ("streamtype", "stdin"));
        var stdin = await peer.AcceptAsync();
        await stdin.ReplyAsync(new Dictionary<string, string> { ["X-Answer"] = "yes" }, fin: false, peer.Token);
        var reply = await peer.NextFrameAsync<SynReplyFrame>();
        Assert.Equal((3, "yes"), (reply.StreamId, reply.Headers["x-answer"]));

        Assert.Equal(("error", "0"), (error.Headers["streamtype"], error.Headers["requestid"]));
        Assert.Equal("stdin", stdin.Headers["streamtype"]);

        await peer.Client.WriteDataAsync(3, "hello "u8, fin: false, peer.Token);
        await peer.Client.WriteDataAsync(1, "err"u8, fin: true, peer.Token);
        await peer.Client.WriteDataAsync(3, "world"u8, fin: true, peer.Token);

        Assert.Equal("hello world", await ReadAllAsync(stdin, peer.Token));
        Assert.Equal("err", await ReadAllAsync(error, peer.Token));
        Assert.True(stdin.RemoteClosed);

        await stdin.Data.WriteAsync("back at you"u8.ToArray(), peer.Token);
        await stdin.CloseWriteAsync(peer.Token);
        await stdin.CloseWriteAsync(peer.Token); // idempotent: no second FIN
        await error.CloseWriteAsync(peer.Token);
        var (bytes, _) = await peer.ReadToFinAsync(3);
        Assert.Equal("back at you", Encoding.ASCII.GetString(bytes));
        var (errorBytes, errorSizes) = await peer.ReadToFinAsync(1);
        Assert.Empty(errorBytes);
        Assert.Equal([0], errorSizes);
    }

    [Fact]
    public async Task PingIsEchoed()
    {
        await using var peer = await SpdyTestPeer.StartAsync();
        await peer.Client.WritePingAsync(7, peer.Token);
        Assert.Equal(new PingFrame(7), await peer.NextFrameAsync());
    }

    [Fact]
    public async Task GoAwayFromThePeerEndsRunAndStreams()
    {
        await using var peer = await SpdyTestPeer.StartAsync();
        await peer.OpenAsync(1, ("streamtype", "data"));
        var stream = await peer.AcceptAsync();
        await peer.Client.WriteGoAwayAsync(0, SpdyProtocol.GoAwayOk, peer.Token);
        await peer.Run.WaitAsync(peer.Token);
        Assert.False(await peer.Server.IncomingStreams.WaitToReadAsync(peer.Token));
        Assert.Equal(0, await stream.Data.ReadAsync(new byte[10], peer.Token));
        Assert.True(stream.RemoteClosed);
        // The transport stays open until disposal, so a stream can still finish what it sends.
        await stream.ReplyAsync(NoHeaders, fin: true, peer.Token);
        Assert.Equal(SpdyProtocol.FlagFin, (await peer.NextFrameAsync<SynReplyFrame>()).Flags);
    }

    [Fact]
    public async Task PeerClosingTheTransportEndsRunNormally()
    {
        await using var peer = await SpdyTestPeer.StartAsync();
        await peer.OpenAsync(1);
        var stream = await peer.AcceptAsync();
        peer.CloseClient();
        await peer.Run.WaitAsync(peer.Token);
        Assert.Equal(0, await stream.Data.ReadAsync(new byte[10], peer.Token));
    }

    [Fact]
    public async Task DisposeEndsRunAndLaterWritesFail()
    {
        var peer = await SpdyTestPeer.StartAsync();
        await peer.OpenAsync(1);
        var stream = await peer.AcceptAsync();
        await stream.ReplyAsync(NoHeaders, fin: false, peer.Token);
        await peer.Server.DisposeAsync();
        await peer.Run.WaitAsync(peer.Token);
        await Assert.ThrowsAsync<IOException>(() => stream.Data.WriteAsync(new byte[3], peer.Token).AsTask());
        await peer.DisposeAsync();
    }

    [Fact]
    public async Task CancellingRunThrowsOperationCanceled()
    {
        using var cts = new CancellationTokenSource();
        var conn = new SpdyConnection(new BlockingStream(), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        var run = conn.RunAsync(cts.Token);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.True(conn.IncomingStreams.Completion.IsCompleted);
        await conn.DisposeAsync();
    }

    [Fact]
    public async Task GoAwayAsyncNamesTheLastStreamAndLaterStreamsAreIgnored()
    {
        await using var peer = await SpdyTestPeer.StartAsync();
        await peer.OpenAsync(1);
        await peer.OpenAsync(3);
        await peer.AcceptAsync();
        await peer.AcceptAsync();
        await peer.Server.GoAwayAsync(peer.Token);
        Assert.Equal(new GoAwayFrame(3, SpdyProtocol.GoAwayOk), await peer.NextFrameAsync());
        await peer.OpenAsync(5, ("streamtype", "late"));
        await peer.Client.WritePingAsync(1, peer.Token);
        // The ping answer proves stream 5 was read (and its header block inflated) but not offered.
        Assert.Equal(new PingFrame(1), await peer.NextFrameAsync());
        Assert.False(peer.Server.IncomingStreams.TryRead(out _));
    }

    [Fact]
    public async Task StreamIdsThatGoBackwardsAreReset()
    {
        await using var peer = await SpdyTestPeer.StartAsync();
        await peer.OpenAsync(5);
        await peer.AcceptAsync();
        await peer.OpenAsync(3);
        Assert.Equal(new RstStreamFrame(3, SpdyResetStatus.ProtocolError), await peer.NextFrameAsync());
        await peer.OpenAsync(6);
        Assert.Equal(new RstStreamFrame(6, SpdyResetStatus.ProtocolError), await peer.NextFrameAsync());
        await peer.OpenAsync(7, ("ok", "1"));
        Assert.Equal("1", (await peer.AcceptAsync()).Headers["ok"]);
    }

    [Fact]
    public async Task ProtocolErrorSendsGoAwayAndThrows()
    {
        await using var peer = await SpdyTestPeer.StartAsync();
        await peer.OpenAsync(1);
        await peer.AcceptAsync();
        // A PING of SPDY version 2: the frame writer only speaks version 3, so raw bytes.
        await peer.WriteRawAsync(Convert.FromHexString("80020006" + "00000004" + "00000001"));
        await Assert.ThrowsAsync<SpdyProtocolException>(() => peer.Run.WaitAsync(peer.Token));
        Assert.Equal(new GoAwayFrame(1, SpdyProtocol.GoAwayProtocolError), await peer.NextFrameAsync());
    }

    [Fact]
    public async Task ResetByThePeerEndsReadsAndFailsWrites()
    {
        await using var peer = await SpdyTestPeer.StartAsync();
        await peer.OpenAsync(1);
        var stream = await peer.AcceptAsync();
        await stream.ReplyAsync(NoHeaders, fin: false, peer.Token);
        await peer.NextFrameAsync<SynReplyFrame>();
        await peer.Client.WriteDataAsync(1, "unread"u8, false, peer.Token);
        await peer.Client.WriteRstStreamAsync(1, SpdyResetStatus.Cancel, peer.Token);
        await peer.Client.WritePingAsync(3, peer.Token);
        await peer.NextFrameAsync<PingFrame>(); // RST processed
        Assert.True(stream.ResetByPeer);
        Assert.Equal(0, await stream.Data.ReadAsync(new byte[10], peer.Token));
        var ex = await Assert.ThrowsAsync<IOException>(() => stream.Data.WriteAsync(new byte[1], peer.Token).AsTask());
        Assert.Contains("reset by the peer", ex.Message);
        await stream.ResetAsync(SpdyResetStatus.Cancel, peer.Token); // no-op: no RST for a reset stream
        await peer.Client.WritePingAsync(5, peer.Token);
        Assert.Equal(new PingFrame(5), await peer.NextFrameAsync());
    }

    [Fact]
    public async Task OurResetSendsRstAndDropsLaterData()
    {
        await using var peer = await SpdyTestPeer.StartAsync();
        await peer.OpenAsync(1);
        var stream = await peer.AcceptAsync();
        await stream.ResetAsync(SpdyResetStatus.RefusedStream, peer.Token);
        Assert.Equal(new RstStreamFrame(1, SpdyResetStatus.RefusedStream), await peer.NextFrameAsync());
        await peer.Client.WriteDataAsync(1, "ignored"u8, true, peer.Token);
        await peer.Client.WritePingAsync(1, peer.Token);
        await peer.NextFrameAsync<PingFrame>();
        Assert.Equal(0, await stream.Data.ReadAsync(new byte[10], peer.Token));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => stream.ResetAsync(0, peer.Token));
    }

    [Fact]
    public async Task DisposingDataDropsUnreadInputWithoutStallingOtherStreams()
    {
        await using var peer = await SpdyTestPeer.StartAsync(inboundLimit: 16 * 1024);
        await peer.OpenAsync(1);
        var ignored = await peer.AcceptAsync();
        await ignored.ReplyAsync(NoHeaders, false, peer.Token);
        await peer.NextFrameAsync<SynReplyFrame>();
        await ignored.Data.DisposeAsync();
        for (var i = 0; i < 10; i++) await peer.Client.WriteDataAsync(1, new byte[32 * 1024], false, peer.Token);
        await peer.Client.WritePingAsync(1, peer.Token);
        Assert.Equal(new PingFrame(1), await peer.NextFrameAsync());
        Assert.False(ignored.RemoteClosed);
        // The peer's side is still open, so a reset is still due.
        await ignored.ResetAsync(SpdyResetStatus.Cancel, peer.Token);
        Assert.Equal(new RstStreamFrame(1, SpdyResetStatus.Cancel), await peer.NextFrameAsync());
    }

    [Fact]
    public async Task WritingBeforeTheReplyIsRefused()
    {
        await using var peer = await SpdyTestPeer.StartAsync();
        await peer.OpenAsync(1);
        var stream = await peer.AcceptAsync();
        await Assert.ThrowsAsync<InvalidOperationException>(() => stream.Data.WriteAsync(new byte[1], peer.Token).AsTask());
        await Assert.ThrowsAsync<InvalidOperationException>(() => stream.CloseWriteAsync(peer.Token));
        await stream.ReplyAsync(NoHeaders, false, peer.Token);
        await Assert.ThrowsAsync<InvalidOperationException>(() => stream.ReplyAsync(NoHeaders, false, peer.Token));
        await stream.CloseWriteAsync(peer.Token);
        await Assert.ThrowsAsync<InvalidOperationException>(() => stream.Data.WriteAsync(new byte[1], peer.Token).AsTask());
    }

    [Fact]
    public async Task LargeWritesAreChunkedAndConcurrentWritersNeverInterleaveFrames()
    {
        await using var peer = await SpdyTestPeer.StartAsync();
        var streams = new List<SpdyStream>();
        foreach (var id in new[] { 1, 3 })
        {
            await peer.OpenAsync(id);
            var s = await peer.AcceptAsync();
            await s.ReplyAsync(NoHeaders, false, peer.Token);
            await peer.NextFrameAsync<SynReplyFrame>();
            streams.Add(s);
        }
        var payloads = new[] { Pattern(300_000, 1), Pattern(200_000, 2) };
        var writers = streams.Select((s, i) => Task.Run(async () =>
        {
            await s.Data.WriteAsync(payloads[i], peer.Token);
            await s.CloseWriteAsync(peer.Token);
        })).ToArray();

        var received = new Dictionary<int, MemoryStream> { [1] = new(), [3] = new() };
        var finished = 0;
        while (finished < 2)
        {
            var data = await peer.NextFrameAsync<DataFrame>();
            Assert.InRange(data.Length, 0, 16 * 1024);
            received[data.StreamId].Write(data.Buffer, 0, data.Length);
            if (data.Fin) finished++;
            ArrayPool<byte>.Shared.Return(data.Buffer);
        }
        await Task.WhenAll(writers);
        Assert.Equal(payloads[0], received[1].ToArray());
        Assert.Equal(payloads[1], received[3].ToArray());
    }

    [Fact]
    public async Task UnreadDataPausesTheConnectionUntilTheApplicationReads()
    {
        await using var peer = await SpdyTestPeer.StartAsync(inboundLimit: 64 * 1024);
        await peer.OpenAsync(1);
        var stream = await peer.AcceptAsync();
        await stream.ReplyAsync(NoHeaders, false, peer.Token);
        await peer.NextFrameAsync<SynReplyFrame>();

        var payload = Pattern(1_000_000, 3);
        var sender = Task.Run(async () =>
        {
            for (var offset = 0; offset < payload.Length; offset += 32 * 1024)
                await peer.Client.WriteDataAsync(1, payload.AsSpan(offset, Math.Min(32 * 1024, payload.Length - offset)).ToArray(), false, peer.Token);
            await peer.Client.WriteDataAsync(1, [], true, peer.Token);
            await peer.Client.WritePingAsync(9, peer.Token);
        });

        // Nobody reads: the server stops reading too, so the ping cannot be answered yet.
        await Task.Delay(300);
        var ping = peer.NextFrameAsync();
        await Task.Delay(200);
        Assert.False(ping.IsCompleted);

        var got = new MemoryStream();
        await stream.Data.CopyToAsync(got, peer.Token);
        Assert.Equal(payload, got.ToArray());
        Assert.Equal(new PingFrame(9), await ping);
        await sender;
    }

    [Fact]
    public async Task HeadersFramesMergeAndFinClosesTheRemoteSide()
    {
        await using var peer = await SpdyTestPeer.StartAsync();
        await peer.OpenAsync(1, ("a", "1"), ("b", "2"));
        var stream = await peer.AcceptAsync();
        await peer.Client.WriteHeadersAsync(1, SpdyProtocol.FlagFin, SpdyTestPeer.H(("b", "3"), ("c", "4")), peer.Token);
        Assert.Equal(0, await stream.Data.ReadAsync(new byte[1], peer.Token));
        Assert.Equal(new Dictionary<string, string> { ["a"] = "1", ["b"] = "3", ["c"] = "4" }, stream.Headers);
    }

    [Fact]
    public async Task SynStreamWithFinHasNoData()
    {
        await using var peer = await SpdyTestPeer.StartAsync();
        await peer.Client.WriteSynStreamAsync(1, 0, 0, SpdyProtocol.FlagFin, SpdyTestPeer.H(("x", "y")), peer.Token);
        var stream = await peer.AcceptAsync();
        Assert.True(stream.RemoteClosed);
        Assert.Equal(0, await stream.Data.ReadAsync(new byte[1], peer.Token));
        await stream.ReplyAsync(NoHeaders, fin: true, peer.Token);
        Assert.Equal(SpdyProtocol.FlagFin, (await peer.NextFrameAsync<SynReplyFrame>()).Flags);
    }

    [Fact]
    public async Task SettingsAndWindowUpdatesAreAcceptedAndIgnored()
    {
        await using var peer = await SpdyTestPeer.StartAsync();
        await peer.Client.WriteSettingsAsync(0, [new SpdySetting(0, 7, 1024)], peer.Token);
        await peer.OpenAsync(1);
        var stream = await peer.AcceptAsync();
        await stream.ReplyAsync(NoHeaders, false, peer.Token);
        await peer.NextFrameAsync<SynReplyFrame>();
        await peer.Client.WriteWindowUpdateAsync(1, 10, peer.Token);
        // An initial window of 1 KiB is not waited for: spdystream never opens windows.
        var payload = Pattern(100_000, 4);
        await stream.Data.WriteAsync(payload, peer.Token);
        await stream.CloseWriteAsync(peer.Token);
        Assert.Equal(payload, (await peer.ReadToFinAsync(1)).Bytes);
    }

    private static async Task<string> ReadAllAsync(SpdyStream stream, CancellationToken ct)
    {
        var buffer = new MemoryStream();
        await stream.Data.CopyToAsync(buffer, ct);
        return Encoding.ASCII.GetString(buffer.ToArray());
    }

    private static byte[] Pattern(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>A transport that never delivers anything, to test cancellation of the read loop.</summary>
    private sealed class BlockingStream : Stream
    {
        public override bool CanRead => true;
        public override bool CanWrite => true;
        public override bool CanSeek => false;
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return 0;
        }
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => default;
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
