using System.Buffers;
using System.Text;
using Crisp.Server.Hosting.Http2;
using Xunit;

namespace Crisp.Server.Tests.Http2;

public sealed class Http2AuthorityRewriterTests
{
    internal static readonly byte[] Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();
    private static readonly byte[] SettingsFrame = [0, 0, 6, 0x4, 0, 0, 0, 0, 0, 0, 0x3, 0, 0, 0, 100];

    internal static byte[] Frame(byte type, byte flags, int stream, byte[] payload) =>
        [(byte)(payload.Length >> 16), (byte)(payload.Length >> 8), (byte)payload.Length, type, flags,
         (byte)(stream >> 24), (byte)(stream >> 16), (byte)(stream >> 8), (byte)stream, .. payload];

    /// <summary>What grpc-go sends when dialling a bare socket path: :authority as a literal with incremental indexing.</summary>
    private static byte[] GrpcGoHeaderBlock(string authority)
    {
        var block = new List<byte> { 0x83, 0x86 }; // :method POST, :scheme http
        block.Add(0x44); // :path, literal with indexing, indexed name 4
        AddString(block, "/runtime.v1.RuntimeService/Version");
        block.Add(0x41); // :authority, literal with indexing, indexed name 1
        AddString(block, authority);
        block.Add(0x40); // new name
        AddString(block, "te");
        AddString(block, "trailers");
        return block.ToArray();
    }

    private static void AddString(List<byte> block, string value)
    {
        HpackLiteralEncoder.WriteInteger(block, value.Length, 7, 0);
        block.AddRange(Encoding.ASCII.GetBytes(value));
    }

    private static (List<(int Type, byte Flags, int Stream, byte[] Payload)> Frames, byte[] Raw) Run(byte[] input, int chunk = int.MaxValue)
    {
        var rewriter = new Http2AuthorityRewriter();
        var output = new ArrayBufferWriter<byte>();
        var pending = Array.Empty<byte>();
        var offset = 0;
        while (offset < input.Length && !rewriter.PassingThrough)
        {
            var take = Math.Min(chunk, input.Length - offset);
            pending = [.. pending, .. input.AsSpan(offset, take)];
            offset += take;
            var sequence = new ReadOnlySequence<byte>(pending);
            var consumed = rewriter.Process(sequence, output);
            pending = sequence.Slice(consumed).ToArray();
        }
        if (rewriter.PassingThrough)
        {
            // The handoff: what the rewriter left and everything after it reach Kestrel as they are.
            output.Write(pending);
            output.Write(input.AsSpan(offset));
            pending = [];
        }
        Assert.Empty(pending);
        var raw = output.WrittenSpan.ToArray();
        Assert.Equal(Preface, raw[..Preface.Length]);
        var frames = new List<(int, byte, int, byte[])>();
        for (var p = Preface.Length; p < raw.Length;)
        {
            var length = (raw[p] << 16) | (raw[p + 1] << 8) | raw[p + 2];
            var stream = ((raw[p + 5] & 0x7F) << 24) | (raw[p + 6] << 16) | (raw[p + 7] << 8) | raw[p + 8];
            frames.Add((raw[p + 3], raw[p + 4], stream, raw[(p + 9)..(p + 9 + length)]));
            p += 9 + length;
        }
        return (frames, raw);
    }

    private static Dictionary<string, string> Headers(HpackDecoder decoder, byte[] block) =>
        decoder.Decode(block).ToDictionary(f => Encoding.ASCII.GetString(f.Name), f => Encoding.ASCII.GetString(f.Value));

    [Fact]
    public void A_socket_path_authority_becomes_localhost_and_other_frames_pass_unchanged()
    {
        var input = Preface.Concat(SettingsFrame)
            .Concat(Frame(1, 0x4, 1, GrpcGoHeaderBlock("/run/crisp/crisp.sock")))
            .Concat(Frame(0, 0x1, 1, [0, 0, 0, 0, 0])).ToArray();

        var (frames, _) = Run(input);

        Assert.Equal(SettingsFrame[9..], frames[0].Payload);
        Assert.Equal(1, frames[1].Type);
        Assert.Equal(0x4, frames[1].Flags);
        var headers = Headers(new HpackDecoder(), frames[1].Payload);
        Assert.Equal("localhost", headers[":authority"]);
        Assert.Equal("/runtime.v1.RuntimeService/Version", headers[":path"]);
        Assert.Equal("POST", headers[":method"]);
        Assert.Equal("trailers", headers["te"]);
        Assert.Equal((0, (byte)1), (frames[2].Type, frames[2].Flags));
    }

    [Fact]
    public void Later_requests_that_reference_the_indexed_authority_are_rewritten_too()
    {
        // Second request: :method POST, :scheme http, indexed :path (62 = newest is te? order: te, :authority, :path)
        byte[] second = [0x83, 0x86, 0xC0, 0xBF, 0xBE];
        var input = Preface.Concat(Frame(1, 0x5, 1, GrpcGoHeaderBlock("/tmp/x/crisp.sock"))).Concat(Frame(1, 0x5, 3, second)).ToArray();

        var (frames, _) = Run(input);

        var kestrelSide = new HpackDecoder();
        Headers(kestrelSide, frames[0].Payload);
        var headers = Headers(kestrelSide, frames[1].Payload);
        Assert.Equal("localhost", headers[":authority"]);
        Assert.Equal("/runtime.v1.RuntimeService/Version", headers[":path"]);
        Assert.Equal("trailers", headers["te"]);
        Assert.Equal(0x5, frames[1].Flags);
    }

    [Fact]
    public void A_valid_authority_is_kept()
    {
        var input = Preface.Concat(Frame(1, 0x4, 1, GrpcGoHeaderBlock("localhost:1234"))).ToArray();
        var (frames, _) = Run(input);
        Assert.Equal("localhost:1234", Headers(new HpackDecoder(), frames[0].Payload)[":authority"]);
    }

    [Fact]
    public void After_a_valid_first_authority_the_connection_passes_through_without_decoding()
    {
        var first = Frame(1, 0x4, 1, GrpcGoHeaderBlock("localhost"));
        // 0xBE indexes dynamic entry 62+: fine for Kestrel (it saw the client's block verbatim), but this decoder
        // would reject an index past its table if it still decoded; the bytes must come out exactly as sent.
        var later = Frame(1, 0x4, 3, [0xFF, 0xFF, 0xFF, 0x0F]);
        var input = Preface.Concat(SettingsFrame).Concat(first).Concat(later).ToArray();

        var (_, raw) = Run(input, chunk: 7);

        Assert.Equal(input, raw);
    }

    [Fact]
    public void A_valid_first_authority_stops_the_rewriter_on_the_frame_boundary_after_its_block()
    {
        var first = Frame(1, 0x4, 1, GrpcGoHeaderBlock("localhost"));
        var data = Frame(0, 0x1, 1, [0, 0, 0, 0, 5, 1, 2, 3, 4, 5]);
        var input = Preface.Concat(SettingsFrame).Concat(first).Concat(data).ToArray();
        var rewriter = new Http2AuthorityRewriter();
        var output = new ArrayBufferWriter<byte>();
        var sequence = new ReadOnlySequence<byte>(input);

        var consumed = rewriter.Process(sequence, output);

        Assert.True(rewriter.PassingThrough);
        Assert.Equal(input.Length - data.Length, sequence.Slice(0, consumed).Length);
        Assert.Equal(input[..(input.Length - data.Length)], output.WrittenSpan.ToArray());
    }

    [Fact]
    public void A_connection_whose_first_authority_was_rewritten_keeps_being_rewritten()
    {
        var input = Preface
            .Concat(Frame(1, 0x4, 1, GrpcGoHeaderBlock("/run/crisp/crisp.sock")))
            .Concat(Frame(1, 0x4, 3, GrpcGoHeaderBlock("localhost"))).ToArray();

        var (frames, _) = Run(input);

        var decoder = new HpackDecoder();
        Assert.Equal("localhost", Headers(decoder, frames[0].Payload)[":authority"]);
        // Re-encoded as plain literals: the first block's indexed entries never reach Kestrel's table.
        Assert.NotEqual(GrpcGoHeaderBlock("localhost"), frames[1].Payload);
        Assert.Equal("localhost", Headers(decoder, frames[1].Payload)[":authority"]);
    }

    [Fact]
    public void Blocks_split_over_continuation_frames_and_padding_and_priority_are_handled()
    {
        var block = GrpcGoHeaderBlock("/run/crisp/crisp.sock");
        byte[] first = [4, 0, 0, 0, 0, 16, .. block[..10], 0, 0, 0, 0]; // PADDED (4 bytes) + PRIORITY
        var input = Preface.Concat(Frame(1, 0x8 | 0x20, 5, first)).Concat(Frame(9, 0x4, 5, block[10..])).ToArray();

        var (frames, _) = Run(input, chunk: 7);

        var headers = Assert.Single(frames);
        Assert.Equal(0x20 | 0x4, headers.Flags);
        Assert.Equal(5, headers.Stream);
        Assert.Equal([0, 0, 0, 0, 16], headers.Payload[..5]);
        Assert.Equal("localhost", Headers(new HpackDecoder(), headers.Payload[5..])[":authority"]);
    }

    [Fact]
    public void A_header_block_larger_than_one_frame_is_split_into_continuations()
    {
        // Within Kestrel's limits: fields under its field size, frames under its frame size.
        var block = new List<byte>(GrpcGoHeaderBlock("/s.sock"));
        foreach (var name in new[] { "big", "bigger" })
        {
            block.Add(0x00);
            AddString(block, name);
            AddString(block, new string('v', 10000));
        }
        var input = Preface.Concat(Frame(1, 0, 1, block.ToArray()[..12000])).Concat(Frame(9, 0x4, 1, block.ToArray()[12000..])).ToArray();

        var (frames, _) = Run(input);

        Assert.Equal([1, 9], frames.Select(f => f.Type));
        Assert.Equal([0, 0x4], frames.Select(f => (int)f.Flags));
        var headers = Headers(new HpackDecoder(), [.. frames[0].Payload, .. frames[1].Payload]);
        Assert.Equal(10000, headers["big"].Length);
        Assert.Equal(10000, headers["bigger"].Length);
        Assert.Equal("localhost", headers[":authority"]);
    }
}
