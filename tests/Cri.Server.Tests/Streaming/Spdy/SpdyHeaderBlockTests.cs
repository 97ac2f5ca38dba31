using Xunit;
using System.Buffers;
using Crisp.Server.Streaming.Spdy;

namespace Crisp.Server.Tests.Streaming.Spdy;

public class SpdyHeaderBlockTests
{
    // Two consecutive header blocks compressed in ONE zlib context with the SPDY/3 dictionary,
    // exactly as spdystream's framer compresses them: produced with Python's
    // zlib.compressobj(9, DEFLATED, 15, 8, Z_DEFAULT_STRATEGY, zdict=<SPDY dictionary>) and
    // flush(Z_SYNC_FLUSH) after each block.
    //   block 1: {streamtype: error}
    //   block 2: {streamtype: stdin, port: 8080}
    private static readonly byte[] Block1 = Convert.FromHexString("78f9e3c6a7c202a62346703a2b294a4dcc851625aca9a08006000000ffff");
    private static readonly byte[] Block2 = Convert.FromHexString("02651c4ca9e21260768194d845e0cc6161606100000000ffff");

    [Fact]
    public void DecodesBlocksCompressedWithTheDictionaryByAnotherImplementation()
    {
        using var decompressor = new SpdyHeaderDecompressor();
        var first = decompressor.Decompress(Block1, 1);
        Assert.Equal(new Dictionary<string, string> { ["streamtype"] = "error" }, first);
        var second = decompressor.Decompress(Block2, 3);
        Assert.Equal(new Dictionary<string, string> { ["streamtype"] = "stdin", ["port"] = "8080" }, second);
    }

    [Fact]
    public void SecondBlockAloneDoesNotDecode()
    {
        // Proof that the context spans frames: block 2 means nothing without block 1 before it.
        using var decompressor = new SpdyHeaderDecompressor();
        Assert.Throws<SpdyProtocolException>(() => decompressor.Decompress(Block2, 3));
    }

    [Fact]
    public void CompressorAndDecompressorRoundTripManyBlocks()
    {
        using var compressor = new SpdyHeaderCompressor();
        using var decompressor = new SpdyHeaderDecompressor();
        for (var i = 0; i < 10; i++)
        {
            var headers = new Dictionary<string, string>
            {
                ["streamtype"] = i % 2 == 0 ? "data" : "error",
                ["port"] = (8000 + i).ToString(),
                ["requestid"] = i.ToString(),
                ["empty"] = "",
            };
            var output = new ArrayBufferWriter<byte>();
            compressor.Compress(headers, output);
            Assert.Equal(headers, decompressor.Decompress(output.WrittenSpan, 1));
        }
    }

    [Fact]
    public void EncodesWith32BitCountsAndLengths()
    {
        var output = new ArrayBufferWriter<byte>();
        SpdyHeaderBlock.Encode([new("port", "80")], output);
        Assert.Equal(Convert.FromHexString("00000001" + "00000004" + "706f7274" + "00000002" + "3830"), output.WrittenSpan.ToArray());
    }

    [Fact]
    public void DecodeLowerCasesNames()
    {
        var block = Convert.FromHexString("00000001" + "00000004" + "504f5254" + "00000002" + "3830");
        var headers = SpdyHeaderBlock.Decode(block);
        Assert.Equal("80", headers["port"]);
        Assert.Equal("port", headers.Keys.Single());
    }

    [Theory]
    [InlineData("00000001" + "00000004" + "706f72", "truncated")]
    [InlineData("00000002" + "00000001" + "61" + "00000000" + "00000001" + "61" + "00000000", "repeats")]
    [InlineData("7fffffff" + "00000000", "claims")]
    [InlineData("00000001" + "00000000" + "00000000", "empty")]
    [InlineData("00000000" + "00", "after its last pair")]
    public void DecodeRejectsMalformedBlocks(string hex, string expected)
    {
        var ex = Assert.Throws<SpdyProtocolException>(() => SpdyHeaderBlock.Decode(Convert.FromHexString(hex)));
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void ReplyHeadersAreLowerCasedAndHopByHopHeadersRefused()
    {
        var normalized = SpdyHeaderBlock.NormalizeForReply(new Dictionary<string, string> { ["X-Stream-Protocol-Version"] = "v4" });
        Assert.Equal("x-stream-protocol-version", normalized.Single().Key);
        var ex = Assert.Throws<ArgumentException>(() =>
            SpdyHeaderBlock.NormalizeForReply(new Dictionary<string, string> { ["Connection"] = "close" }));
        Assert.Contains("connection", ex.Message);
        Assert.Throws<ArgumentException>(() =>
            SpdyHeaderBlock.NormalizeForReply(new Dictionary<string, string>(StringComparer.Ordinal) { ["a"] = "1", ["A"] = "2" }));
    }
}
