using System.Text;
using Crisp.Server.Hosting.Http2;
using Xunit;

namespace Crisp.Server.Tests.Http2;

public sealed class HpackTests
{
    private static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", ""));
    private static string Text(byte[] bytes) => Encoding.ASCII.GetString(bytes);

    [Theory]
    [InlineData("f1e3 c2e5 f23a 6ba0 ab90 f4ff", "www.example.com")]
    [InlineData("a8eb 1064 9cbf", "no-cache")]
    [InlineData("25a8 49e9 5ba9 7d7f", "custom-key")]
    [InlineData("25a8 49e9 5bb8 e8b4 bf", "custom-value")]
    [InlineData("6402", "302")]
    [InlineData("aec3 771a 4b", "private")]
    [InlineData("d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff", "Mon, 21 Oct 2013 20:13:21 GMT")]
    [InlineData("9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3", "https://www.example.com")]
    public void Huffman_decodes_the_rfc_7541_examples(string encoded, string expected) =>
        Assert.Equal(expected, Text(HpackHuffman.Decode(Hex(encoded))));

    [Fact]
    public void Huffman_rejects_padding_that_is_not_eos_ones() =>
        Assert.Throws<HpackException>(() => HpackHuffman.Decode([0xf1, 0xe3, 0x00]));

    [Fact]
    public void Decoder_follows_the_rfc_7541_request_sequence_with_its_dynamic_table()
    {
        var decoder = new HpackDecoder();
        var first = decoder.Decode(Hex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff"));
        Assert.Equal([":method", ":scheme", ":path", ":authority"], first.Select(f => Text(f.Name)));
        Assert.Equal("www.example.com", Text(first[3].Value));

        var second = decoder.Decode(Hex("8286 84be 5886 a8eb 1064 9cbf"));
        Assert.Equal("www.example.com", Text(second[3].Value));
        Assert.Equal(("cache-control", "no-cache"), (Text(second[4].Name), Text(second[4].Value)));

        var third = decoder.Decode(Hex("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"));
        Assert.Equal("https", Text(third[1].Value));
        Assert.Equal("/index.html", Text(third[2].Value));
        Assert.Equal("www.example.com", Text(third[3].Value));
        Assert.Equal(("custom-key", "custom-value"), (Text(third[4].Name), Text(third[4].Value)));
    }

    [Fact]
    public void Decoder_rejects_an_index_beyond_its_tables() =>
        Assert.Throws<HpackException>(() => new HpackDecoder().Decode(Hex("be")));

    [Fact]
    public void Literal_encoder_round_trips_through_the_decoder()
    {
        var fields = new List<(byte[], byte[])> { ("a"u8.ToArray(), new string('x', 300).Select(c => (byte)c).ToArray()), (":path"u8.ToArray(), "/p"u8.ToArray()) };
        var decoded = new HpackDecoder().Decode(HpackLiteralEncoder.Encode(fields));
        Assert.Equal(fields.Select(f => Text(f.Item2)), decoded.Select(f => Text(f.Value)));
    }
}
