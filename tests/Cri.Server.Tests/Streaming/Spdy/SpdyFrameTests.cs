using Xunit;
using System.Buffers;
using Crisp.Server.Limits;
using Crisp.Server.Streaming.Spdy;

namespace Crisp.Server.Tests.Streaming.Spdy;

public class SpdyFrameTests
{
    private static async Task<List<SpdyFrame>> RoundTripAsync(Func<SpdyFrameWriter, CancellationToken, Task> write)
    {
        var buffer = new MemoryStream();
        using (var writer = new SpdyFrameWriter(buffer))
            await write(writer, CancellationToken.None);
        buffer.Position = 0;
        using var reader = new SpdyFrameReader(buffer);
        var frames = new List<SpdyFrame>();
        while (await reader.ReadAsync(CancellationToken.None) is { } frame) frames.Add(frame);
        return frames;
    }

    [Fact]
    public async Task EveryFrameTypeRoundTrips()
    {
        var frames = await RoundTripAsync(async (w, ct) =>
        {
            await w.WriteSynStreamAsync(5, 3, 7, SpdyProtocol.FlagFin, SpdyTestPeer.H(("streamtype", "stdout")), ct);
            await w.WriteSynReplyAsync(5, 0, SpdyTestPeer.H(("status", "200")), ct);
            await w.WriteHeadersAsync(5, SpdyProtocol.FlagFin, SpdyTestPeer.H(("x", "y")), ct);
            await w.WriteRstStreamAsync(5, SpdyResetStatus.Cancel, ct);
            await w.WriteSettingsAsync(0, [new SpdySetting(1, 7, 65536), new SpdySetting(0, 4, 100)], ct);
            await w.WritePingAsync(17, ct);
            await w.WriteGoAwayAsync(9, SpdyProtocol.GoAwayInternalError, ct);
            await w.WriteWindowUpdateAsync(5, 4096, ct);
            await w.WriteDataAsync(5, "hello"u8, fin: true, ct);
            await w.WriteDataAsync(7, ReadOnlySpan<byte>.Empty, fin: false, ct);
        });

        Assert.Equal(10, frames.Count);
        var syn = Assert.IsType<SynStreamFrame>(frames[0]);
        Assert.Equal((5, 3, (byte)7, SpdyProtocol.FlagFin), (syn.StreamId, syn.AssociatedStreamId, syn.Priority, syn.Flags));
        Assert.Equal("stdout", syn.Headers["streamtype"]);
        var reply = Assert.IsType<SynReplyFrame>(frames[1]);
        Assert.Equal((5, (byte)0, "200"), (reply.StreamId, reply.Flags, reply.Headers["status"]));
        var headers = Assert.IsType<HeadersFrame>(frames[2]);
        Assert.Equal((5, SpdyProtocol.FlagFin, "y"), (headers.StreamId, headers.Flags, headers.Headers["x"]));
        Assert.Equal(new RstStreamFrame(5, SpdyResetStatus.Cancel), frames[3]);
        var settings = Assert.IsType<SettingsFrame>(frames[4]);
        Assert.Equal([new SpdySetting(1, 7, 65536), new SpdySetting(0, 4, 100)], settings.Settings);
        Assert.Equal(new PingFrame(17), frames[5]);
        Assert.Equal(new GoAwayFrame(9, SpdyProtocol.GoAwayInternalError), frames[6]);
        Assert.Equal(new WindowUpdateFrame(5, 4096), frames[7]);
        var data = Assert.IsType<DataFrame>(frames[8]);
        Assert.Equal((5, true, "hello"), (data.StreamId, data.Fin, System.Text.Encoding.ASCII.GetString(data.Buffer, 0, data.Length)));
        var empty = Assert.IsType<DataFrame>(frames[9]);
        Assert.Equal((7, false, 0), (empty.StreamId, empty.Fin, empty.Length));
        foreach (var d in frames.OfType<DataFrame>()) ArrayPool<byte>.Shared.Return(d.Buffer);
    }

    [Fact]
    public async Task WireLayoutMatchesSpdy3()
    {
        var buffer = new MemoryStream();
        using (var writer = new SpdyFrameWriter(buffer))
        {
            await writer.WritePingAsync(1, CancellationToken.None);
            await writer.WriteDataAsync(3, "ab"u8, fin: true, CancellationToken.None);
            await writer.WriteRstStreamAsync(3, SpdyResetStatus.ProtocolError, CancellationToken.None);
        }
        Assert.Equal(Convert.FromHexString(
            "80030006" + "00000004" + "00000001" +              // PING: control bit, version 3, type 6, length 4, id 1
            "00000003" + "01000002" + "6162" +                  // DATA: stream 3, FIN, length 2
            "80030003" + "00000008" + "00000003" + "00000001"), // RST_STREAM stream 3, PROTOCOL_ERROR
            buffer.ToArray());
    }

    [Fact]
    public async Task CleanEofBetweenFramesIsNullAndInsideAFrameThrows()
    {
        using var empty = new SpdyFrameReader(new MemoryStream());
        Assert.Null(await empty.ReadAsync(CancellationToken.None));
        using var cut = new SpdyFrameReader(new MemoryStream(Convert.FromHexString("800300060000000400")));
        await Assert.ThrowsAsync<EndOfStreamException>(async () => await cut.ReadAsync(CancellationToken.None));
        using var cutHead = new SpdyFrameReader(new MemoryStream(Convert.FromHexString("8003")));
        await Assert.ThrowsAsync<EndOfStreamException>(async () => await cutHead.ReadAsync(CancellationToken.None));
    }

    [Theory]
    [InlineData("80020006" + "00000004" + "00000001", "version 2")]
    [InlineData("80030006" + "00000005" + "0000000100", "must be 4 bytes")]
    [InlineData("80030003" + "00000008" + "00000000" + "00000001", "stream 0")]
    [InlineData("00000000" + "00000000", "stream 0")]
    [InlineData("80030004" + "00000008" + "00000002" + "00000000", "announces 2 entries")]
    [InlineData("80030001" + "00000004" + "00000001", "shorter than 10")]
    public async Task MalformedFramesAreProtocolErrors(string hex, string expected)
    {
        using var reader = new SpdyFrameReader(new MemoryStream(Convert.FromHexString(hex)));
        var ex = await Assert.ThrowsAsync<SpdyProtocolException>(async () => await reader.ReadAsync(CancellationToken.None));
        Assert.Contains(expected, ex.Message);
    }

    [Theory]
    [InlineData("80030006" + "00ffffff", nameof(ClientLimits.SpdyMaxControlFrameBytes))]
    [InlineData("00000001" + "00ffffff", nameof(ClientLimits.SpdyMaxDataFrameBytes))]
    public async Task FramesOverTheirSizeLimitAreRefusedFromTheHeader(string hex, string limit)
    {
        using var reader = new SpdyFrameReader(new MemoryStream(Convert.FromHexString(hex)));
        var ex = await Assert.ThrowsAsync<ClientLimitExceededException>(async () => await reader.ReadAsync(CancellationToken.None));
        Assert.Equal(limit, ex.Limit);
    }

    [Fact]
    public async Task UnknownControlFrameTypesAreSkipped()
    {
        using var reader = new SpdyFrameReader(new MemoryStream(Convert.FromHexString(
            "8003000a" + "00000003" + "010203" + "80030006" + "00000004" + "00000009")));
        Assert.Equal(new UnknownControlFrame(10, 0, 3), await reader.ReadAsync(CancellationToken.None));
        Assert.Equal(new PingFrame(9), await reader.ReadAsync(CancellationToken.None));
    }
}
