using System.Buffers;
using Crisp.Interop;
using Crisp.Server.Limits;

namespace Crisp.Server.Streaming.Spdy;

/// <summary>
/// The peer's header compression context: one zlib stream for the whole connection, so every
/// header block must be inflated in arrival order — even of frames we then ignore — or the
/// next block cannot be decoded. Asks for the SPDY/3 dictionary only if the block's zlib
/// header names one (FDICT), so blocks compressed with or without it both decode.
/// </summary>
internal sealed class SpdyHeaderDecompressor : IDisposable
{
    private readonly Zlib.Inflater _inflater = new(SpdyDictionary.Bytes);
    private readonly ArrayBufferWriter<byte> _plain = new(1024);

    public Dictionary<string, string> Decompress(ReadOnlySpan<byte> compressed, int streamId)
    {
        _plain.ResetWrittenCount();
        try
        {
            _inflater.Inflate(compressed, _plain, ClientLimits.SpdyMaxHeaderBlockBytes);
        }
        catch (ZlibException ex)
        {
            throw new SpdyProtocolException($"SPDY header block of stream {streamId} does not inflate: {ex.Message}", ex);
        }
        return SpdyHeaderBlock.Decode(_plain.WrittenSpan);
    }

    public void Dispose() => _inflater.Dispose();
}
