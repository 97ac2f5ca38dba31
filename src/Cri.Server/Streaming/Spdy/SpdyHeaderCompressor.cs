using System.Buffers;
using Crisp.Interop;

namespace Crisp.Server.Streaming.Spdy;

/// <summary>
/// Our direction's header compression context: one zlib stream for the whole connection, primed
/// with the SPDY/3 dictionary (as the Go framer does, so a peer's reader sees exactly what it
/// expects), each block sync-flushed so it decodes on arrival. Not thread-safe: the connection's
/// writer lock serialises it, which also keeps compression order equal to wire order.
/// </summary>
internal sealed class SpdyHeaderCompressor : IDisposable
{
    private readonly Zlib.Deflater _deflater = new(level: 9, SpdyDictionary.Bytes);
    private readonly ArrayBufferWriter<byte> _plain = new(256);

    public void Compress(IReadOnlyCollection<KeyValuePair<string, string>> headers, IBufferWriter<byte> output)
    {
        _plain.ResetWrittenCount();
        SpdyHeaderBlock.Encode(headers, _plain);
        _deflater.DeflateSyncFlush(_plain.WrittenSpan, output);
    }

    public void Dispose() => _deflater.Dispose();
}
