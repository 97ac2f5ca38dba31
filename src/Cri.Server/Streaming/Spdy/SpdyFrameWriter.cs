using System.Buffers;
using System.Buffers.Binary;

namespace Crisp.Server.Streaming.Spdy;

/// <summary>
/// Serialises SPDY/3 frames: each frame is assembled in one buffer and written with a single
/// write so a frame is never split by another. Not thread-safe — callers hold the connection's
/// writer lock, which also keeps header compression in wire order.
/// </summary>
internal sealed class SpdyFrameWriter(Stream transport) : IDisposable
{
    private readonly ArrayBufferWriter<byte> _frame = new(SpdyProtocol.MaxDataChunk + SpdyProtocol.FrameHeaderLength);
    private readonly ArrayBufferWriter<byte> _block = new(256);
    private readonly SpdyHeaderCompressor _compressor = new();

    public ValueTask WriteSynStreamAsync(int streamId, int associatedStreamId, byte priority, byte flags,
        IReadOnlyCollection<KeyValuePair<string, string>> headers, CancellationToken ct)
    {
        CompressBlock(headers);
        var payload = BeginControl(SpdyProtocol.TypeSynStream, flags, 10 + _block.WrittenCount);
        BinaryPrimitives.WriteUInt32BigEndian(payload, (uint)streamId & 0x7FFFFFFF);
        BinaryPrimitives.WriteUInt32BigEndian(payload[4..], (uint)associatedStreamId & 0x7FFFFFFF);
        payload[8] = (byte)((priority & 0x7) << 5);
        payload[9] = 0; // credential slot, unused
        _block.WrittenSpan.CopyTo(payload[10..]);
        return FlushFrameAsync(ct);
    }

    public ValueTask WriteSynReplyAsync(int streamId, byte flags,
        IReadOnlyCollection<KeyValuePair<string, string>> headers, CancellationToken ct) =>
        WriteStreamHeadersAsync(SpdyProtocol.TypeSynReply, streamId, flags, headers, ct);

    public ValueTask WriteHeadersAsync(int streamId, byte flags,
        IReadOnlyCollection<KeyValuePair<string, string>> headers, CancellationToken ct) =>
        WriteStreamHeadersAsync(SpdyProtocol.TypeHeaders, streamId, flags, headers, ct);

    public ValueTask WriteRstStreamAsync(int streamId, int status, CancellationToken ct)
    {
        var payload = BeginControl(SpdyProtocol.TypeRstStream, 0, 8);
        BinaryPrimitives.WriteUInt32BigEndian(payload, (uint)streamId & 0x7FFFFFFF);
        BinaryPrimitives.WriteUInt32BigEndian(payload[4..], (uint)status);
        return FlushFrameAsync(ct);
    }

    public ValueTask WriteSettingsAsync(byte flags, IReadOnlyList<SpdySetting> settings, CancellationToken ct)
    {
        var payload = BeginControl(SpdyProtocol.TypeSettings, flags, 4 + 8 * settings.Count);
        BinaryPrimitives.WriteUInt32BigEndian(payload, (uint)settings.Count);
        for (var i = 0; i < settings.Count; i++)
        {
            var entry = payload.Slice(4 + 8 * i, 8);
            BinaryPrimitives.WriteUInt32BigEndian(entry, ((uint)settings[i].Flags << 24) | ((uint)settings[i].Id & 0xFFFFFF));
            BinaryPrimitives.WriteUInt32BigEndian(entry[4..], settings[i].Value);
        }
        return FlushFrameAsync(ct);
    }

    public ValueTask WritePingAsync(uint id, CancellationToken ct)
    {
        BinaryPrimitives.WriteUInt32BigEndian(BeginControl(SpdyProtocol.TypePing, 0, 4), id);
        return FlushFrameAsync(ct);
    }

    public ValueTask WriteGoAwayAsync(int lastGoodStreamId, int status, CancellationToken ct)
    {
        var payload = BeginControl(SpdyProtocol.TypeGoAway, 0, 8);
        BinaryPrimitives.WriteUInt32BigEndian(payload, (uint)lastGoodStreamId & 0x7FFFFFFF);
        BinaryPrimitives.WriteUInt32BigEndian(payload[4..], (uint)status);
        return FlushFrameAsync(ct);
    }

    public ValueTask WriteWindowUpdateAsync(int streamId, int delta, CancellationToken ct)
    {
        var payload = BeginControl(SpdyProtocol.TypeWindowUpdate, 0, 8);
        BinaryPrimitives.WriteUInt32BigEndian(payload, (uint)streamId & 0x7FFFFFFF);
        BinaryPrimitives.WriteUInt32BigEndian(payload[4..], (uint)delta & 0x7FFFFFFF);
        return FlushFrameAsync(ct);
    }

    public ValueTask WriteDataAsync(int streamId, ReadOnlySpan<byte> data, bool fin, CancellationToken ct)
    {
        if (data.Length > SpdyProtocol.MaxFrameLength)
            throw new ArgumentOutOfRangeException(nameof(data), data.Length, "a SPDY DATA frame carries at most 16 MiB - 1");
        _frame.ResetWrittenCount();
        var span = _frame.GetSpan(SpdyProtocol.FrameHeaderLength + data.Length);
        BinaryPrimitives.WriteUInt32BigEndian(span, (uint)streamId & 0x7FFFFFFF);
        BinaryPrimitives.WriteUInt32BigEndian(span[4..], ((fin ? (uint)SpdyProtocol.FlagFin : 0u) << 24) | (uint)data.Length);
        data.CopyTo(span[SpdyProtocol.FrameHeaderLength..]);
        _frame.Advance(SpdyProtocol.FrameHeaderLength + data.Length);
        return FlushFrameAsync(ct);
    }

    private ValueTask WriteStreamHeadersAsync(ushort type, int streamId, byte flags,
        IReadOnlyCollection<KeyValuePair<string, string>> headers, CancellationToken ct)
    {
        CompressBlock(headers);
        var payload = BeginControl(type, flags, 4 + _block.WrittenCount);
        BinaryPrimitives.WriteUInt32BigEndian(payload, (uint)streamId & 0x7FFFFFFF);
        _block.WrittenSpan.CopyTo(payload[4..]);
        return FlushFrameAsync(ct);
    }

    private void CompressBlock(IReadOnlyCollection<KeyValuePair<string, string>> headers)
    {
        _block.ResetWrittenCount();
        _compressor.Compress(headers, _block);
    }

    /// <summary>Starts a control frame in the frame buffer and returns its payload area.</summary>
    private Span<byte> BeginControl(ushort type, byte flags, int payloadLength)
    {
        _frame.ResetWrittenCount();
        var total = SpdyProtocol.FrameHeaderLength + payloadLength;
        var span = _frame.GetSpan(total)[..total];
        BinaryPrimitives.WriteUInt32BigEndian(span, 0x80000000u | ((uint)SpdyProtocol.Version << 16) | type);
        BinaryPrimitives.WriteUInt32BigEndian(span[4..], ((uint)flags << 24) | (uint)payloadLength);
        _frame.Advance(total);
        return span[SpdyProtocol.FrameHeaderLength..];
    }

    private async ValueTask FlushFrameAsync(CancellationToken ct)
    {
        await transport.WriteAsync(_frame.WrittenMemory, ct);
        await transport.FlushAsync(ct);
    }

    public void Dispose() => _compressor.Dispose();
}
