using Xunit;
using System.Buffers;
using System.IO.Compression;
using System.Text;
using Crisp.Interop;
using Crisp.Server.Streaming.Spdy;

namespace Crisp.Server.Tests.Streaming.Spdy;

public class ZlibTests
{
    [Fact]
    public void Spdy3DictionaryMatchesTheSpec()
    {
        // 0xE3C6A7C2 is the dictionary id every SPDY/3 header block's zlib header names.
        Assert.Equal(1423, SpdyDictionary.Bytes.Length);
        Assert.Equal(0xE3C6A7C2u, Zlib.Adler32(SpdyDictionary.Bytes));
    }

    [Fact]
    public void Adler32MatchesKnownValue()
    {
        Assert.Equal(0x11E60398u, Zlib.Adler32(Encoding.ASCII.GetBytes("Wikipedia")));
    }

    [Fact]
    public void DeflatedBlocksWithDictionaryInflateInOneSharedContext()
    {
        using var deflater = new Zlib.Deflater(9, SpdyDictionary.Bytes);
        using var inflater = new Zlib.Inflater(SpdyDictionary.Bytes);
        for (var i = 0; i < 5; i++)
        {
            var plain = Encoding.ASCII.GetBytes($"content-type: text/plain; round {i}; " + new string('x', i * 1000));
            var compressed = new ArrayBufferWriter<byte>();
            deflater.DeflateSyncFlush(plain, compressed);
            if (i == 0)
            {
                // FDICT set, naming the SPDY dictionary.
                Assert.Equal(0x20, compressed.WrittenSpan[1] & 0x20);
                Assert.Equal(new byte[] { 0xE3, 0xC6, 0xA7, 0xC2 }, compressed.WrittenSpan.Slice(2, 4).ToArray());
            }
            Assert.True(compressed.WrittenSpan.EndsWith(new byte[] { 0, 0, 0xFF, 0xFF }), "sync flush marker");
            var output = new ArrayBufferWriter<byte>();
            inflater.Inflate(compressed.WrittenSpan, output, 1 << 20);
            Assert.Equal(plain, output.WrittenSpan.ToArray());
        }
    }

    [Fact]
    public void InflatesAStreamWithoutPresetDictionary()
    {
        var plain = Encoding.ASCII.GetBytes("no dictionary here, just zlib");
        var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            z.Write(plain);
            z.Flush();
        }
        using var inflater = new Zlib.Inflater(SpdyDictionary.Bytes);
        var output = new ArrayBufferWriter<byte>();
        inflater.Inflate(compressed.ToArray(), output, 1 << 20);
        Assert.Equal(plain, output.WrittenSpan.ToArray());
    }

    [Fact]
    public void InflateRefusesOutputBeyondTheLimit()
    {
        using var deflater = new Zlib.Deflater(9, default);
        var compressed = new ArrayBufferWriter<byte>();
        deflater.DeflateSyncFlush(new byte[100_000], compressed);
        using var inflater = new Zlib.Inflater(default);
        var ex = Assert.Throws<ZlibException>(() => inflater.Inflate(compressed.WrittenSpan, new ArrayBufferWriter<byte>(), 10_000));
        Assert.Contains("exceeds", ex.Message);
    }

    [Fact]
    public void InflateWithTheWrongDictionaryFailsWithZlibMessage()
    {
        using var deflater = new Zlib.Deflater(9, SpdyDictionary.Bytes);
        var compressed = new ArrayBufferWriter<byte>();
        deflater.DeflateSyncFlush("abc"u8, compressed);
        using var inflater = new Zlib.Inflater("some other dictionary"u8);
        var ex = Assert.Throws<ZlibException>(() => inflater.Inflate(compressed.WrittenSpan, new ArrayBufferWriter<byte>(), 1000));
        Assert.Equal("inflateSetDictionary", ex.Call);
    }

    [Fact]
    public void InflateOfGarbageThrows()
    {
        using var inflater = new Zlib.Inflater(SpdyDictionary.Bytes);
        Assert.Throws<ZlibException>(() => inflater.Inflate(new byte[] { 0x12, 0x34, 0x56, 0x78 }, new ArrayBufferWriter<byte>(), 1000));
    }
}
