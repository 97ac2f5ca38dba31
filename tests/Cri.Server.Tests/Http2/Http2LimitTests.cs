using System.Buffers;
using System.Text;
using Crisp.Server.Hosting.Http2;
using Crisp.Server.Limits;
using Xunit;

namespace Crisp.Server.Tests.Http2;

/// <summary>The :authority rewrite in front of Kestrel must not hold or decode more than Kestrel would accept.</summary>
public sealed class Http2LimitTests
{
    private static readonly byte[] Preface = Http2AuthorityRewriterTests.Preface;
    private const byte Headers = 0x1, Continuation = 0x9;

    private static byte[] Frame(byte type, byte flags, int stream, byte[] payload) =>
        Http2AuthorityRewriterTests.Frame(type, flags, stream, payload);

    private static ClientLimitExceededException Refused(byte[] input)
    {
        var rewriter = new Http2AuthorityRewriter();
        return Assert.Throws<ClientLimitExceededException>(() =>
            rewriter.Process(new ReadOnlySequence<byte>(input), new ArrayBufferWriter<byte>()));
    }

    private static void AddString(List<byte> block, byte[] value)
    {
        HpackLiteralEncoder.WriteInteger(block, value.Length, 7, 0);
        block.AddRange(value);
    }

    [Fact]
    public void A_continuation_flood_is_refused_naming_the_limit()
    {
        // HEADERS without END_HEADERS, then CONTINUATION frames that never end the block.
        var input = new List<byte>(Preface);
        input.AddRange(Frame(Headers, 0, 1, [0x83]));
        for (var i = 0; i < 100; i++) input.AddRange(Frame(Continuation, 0, 1, new byte[1000]));
        Assert.Equal(nameof(ClientLimits.Http2MaxContinuationFrames), Refused([.. input]).Limit);
    }

    [Fact]
    public void A_header_block_past_the_header_list_size_is_refused_before_it_is_held()
    {
        var input = new List<byte>(Preface);
        input.AddRange(Frame(Headers, 0, 1, new byte[ClientLimits.Http2MaxFrameBytes]));
        for (var i = 0; i < 3; i++) input.AddRange(Frame(Continuation, 0, 1, new byte[ClientLimits.Http2MaxFrameBytes]));
        Assert.Equal(nameof(ClientLimits.Http2MaxHeaderListBytes), Refused([.. input]).Limit);
    }

    [Fact]
    public void A_frame_larger_than_kestrel_advertises_is_refused_from_its_header()
    {
        // Only the 9-byte header of a 16 MiB frame arrives: it must not be waited for and buffered.
        byte[] input = [.. Preface, 0xFF, 0xFF, 0xFF, 0x0, 0, 0, 0, 0, 1];
        Assert.Equal(nameof(ClientLimits.Http2MaxFrameBytes), Refused(input).Limit);
    }

    [Fact]
    public void An_hpack_bomb_is_refused_before_it_expands()
    {
        // One 4000-byte literal enters the dynamic table (index 62); 1000 one-byte references to it
        // would decode into ~4 MB of headers from a ~5 KB block.
        var block = new List<byte> { 0x40 };
        AddString(block, "x-bomb"u8.ToArray());
        AddString(block, Encoding.ASCII.GetBytes(new string('a', 4000)));
        for (var i = 0; i < 1000; i++) block.Add(0x80 | 62);
        var error = Assert.Throws<ClientLimitExceededException>(() => new HpackDecoder().Decode(block.ToArray()));
        Assert.Equal(nameof(ClientLimits.Http2MaxHeaderListBytes), error.Limit);
    }

    [Fact]
    public void A_header_value_longer_than_kestrel_accepts_is_refused()
    {
        var block = new List<byte> { 0x00 };
        AddString(block, "x-long"u8.ToArray());
        AddString(block, new byte[ClientLimits.Http2MaxHeaderFieldBytes + 1]);
        var error = Assert.Throws<ClientLimitExceededException>(() => new HpackDecoder(maxHeaderListBytes: int.MaxValue).Decode(block.ToArray()));
        Assert.Equal(nameof(ClientLimits.Http2MaxHeaderFieldBytes), error.Limit);
    }

    [Fact]
    public void A_header_list_at_the_limit_still_decodes()
    {
        // Fields of 32 + 4 + 100 bytes up to just under the limit: the bound must not refuse what Kestrel accepts.
        var block = new List<byte>();
        var fields = (ClientLimits.Http2MaxHeaderListBytes - 1) / (32 + 4 + 100);
        for (var i = 0; i < fields; i++)
        {
            block.Add(0x00);
            AddString(block, Encoding.ASCII.GetBytes($"x{i:000}"));
            AddString(block, new byte[100]);
        }
        Assert.Equal(fields, new HpackDecoder().Decode(block.ToArray()).Count);
    }
}
