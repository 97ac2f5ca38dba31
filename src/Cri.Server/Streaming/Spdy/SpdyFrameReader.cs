using System.Buffers;
using System.Buffers.Binary;
using Crisp.Server.Limits;

namespace Crisp.Server.Streaming.Spdy;

/// <summary>
/// Reads SPDY/3 frames off a byte stream: the 8-byte header (control bit, version, type /
/// stream id, flags, 24-bit length), then the payload. Control frames are decoded here,
/// header blocks inflated through the connection's single decompression context. Not
/// thread-safe: one reader loop owns it.
/// </summary>
internal sealed class SpdyFrameReader(Stream transport) : IDisposable
{
    private readonly byte[] _head = new byte[SpdyProtocol.FrameHeaderLength];
    private readonly SpdyHeaderDecompressor _headers = new();

    /// <summary>The next frame, or null when the peer closed the stream at a frame boundary.</summary>
    public async ValueTask<SpdyFrame?> ReadAsync(CancellationToken ct)
    {
        if (!await FillHeadAsync(ct)) return null;

        var first = BinaryPrimitives.ReadUInt32BigEndian(_head);
        var second = BinaryPrimitives.ReadUInt32BigEndian(_head.AsSpan(4));
        var flags = (byte)(second >> 24);
        var length = (int)(second & 0xFFFFFF);
        if ((first & 0x80000000) == 0 && length > ClientLimits.SpdyMaxDataFrameBytes)
            throw new ClientLimitExceededException(nameof(ClientLimits.SpdyMaxDataFrameBytes), ClientLimits.SpdyMaxDataFrameBytes,
                $"SPDY DATA frame of {length} bytes on stream {first & 0x7FFFFFFF}");

        var payload = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
        var handedOver = false;
        try
        {
            if ((first & 0x80000000) == 0)
            {
                var streamId = (int)(first & 0x7FFFFFFF);
                await ReadPayloadAsync(payload, length, ct);
                if (streamId == 0) throw new SpdyProtocolException("SPDY DATA frame for stream 0");
                handedOver = true;
                return new DataFrame(streamId, flags, payload, length);
            }

            var version = (int)((first >> 16) & 0x7FFF);
            var type = (ushort)(first & 0xFFFF);
            if (version != SpdyProtocol.Version)
                throw new SpdyProtocolException($"SPDY control frame of version {version}; only SPDY/3 is spoken here");
            if (length > ClientLimits.SpdyMaxControlFrameBytes)
                throw new ClientLimitExceededException(nameof(ClientLimits.SpdyMaxControlFrameBytes), ClientLimits.SpdyMaxControlFrameBytes,
                    $"SPDY control frame type {type} of {length} bytes");
            await ReadPayloadAsync(payload, length, ct);
            return ParseControl(type, flags, payload.AsSpan(0, length));
        }
        finally
        {
            if (!handedOver) ArrayPool<byte>.Shared.Return(payload);
        }
    }

    private SpdyFrame ParseControl(ushort type, byte flags, ReadOnlySpan<byte> payload)
    {
        switch (type)
        {
            case SpdyProtocol.TypeSynStream:
            {
                RequireAtLeast(payload, 10, "SYN_STREAM");
                var streamId = StreamId(payload, "SYN_STREAM");
                var associated = (int)(BinaryPrimitives.ReadUInt32BigEndian(payload[4..]) & 0x7FFFFFFF);
                var priority = (byte)(payload[8] >> 5);
                // Inflate before any validation can bail out: the compression context spans frames.
                var headers = _headers.Decompress(payload[10..], streamId);
                return new SynStreamFrame(streamId, associated, priority, flags, headers);
            }
            case SpdyProtocol.TypeSynReply:
            {
                RequireAtLeast(payload, 4, "SYN_REPLY");
                var streamId = StreamId(payload, "SYN_REPLY");
                return new SynReplyFrame(streamId, flags, _headers.Decompress(payload[4..], streamId));
            }
            case SpdyProtocol.TypeHeaders:
            {
                RequireAtLeast(payload, 4, "HEADERS");
                var streamId = StreamId(payload, "HEADERS");
                return new HeadersFrame(streamId, flags, _headers.Decompress(payload[4..], streamId));
            }
            case SpdyProtocol.TypeRstStream:
            {
                RequireExactly(payload, 8, "RST_STREAM");
                return new RstStreamFrame(StreamId(payload, "RST_STREAM"), (int)BinaryPrimitives.ReadUInt32BigEndian(payload[4..]));
            }
            case SpdyProtocol.TypeSettings:
            {
                RequireAtLeast(payload, 4, "SETTINGS");
                var count = BinaryPrimitives.ReadUInt32BigEndian(payload);
                if ((ulong)payload.Length != 4 + 8UL * count)
                    throw new SpdyProtocolException($"SPDY SETTINGS frame announces {count} entries in {payload.Length} bytes");
                var settings = new List<SpdySetting>((int)count);
                for (var i = 0; i < count; i++)
                {
                    var entry = payload.Slice(4 + i * 8, 8);
                    var flagsAndId = BinaryPrimitives.ReadUInt32BigEndian(entry);
                    settings.Add(new SpdySetting((byte)(flagsAndId >> 24), (int)(flagsAndId & 0xFFFFFF),
                        BinaryPrimitives.ReadUInt32BigEndian(entry[4..])));
                }
                return new SettingsFrame(flags, settings);
            }
            case SpdyProtocol.TypePing:
                RequireExactly(payload, 4, "PING");
                return new PingFrame(BinaryPrimitives.ReadUInt32BigEndian(payload));
            case SpdyProtocol.TypeGoAway:
                RequireExactly(payload, 8, "GOAWAY");
                return new GoAwayFrame((int)(BinaryPrimitives.ReadUInt32BigEndian(payload) & 0x7FFFFFFF),
                    (int)BinaryPrimitives.ReadUInt32BigEndian(payload[4..]));
            case SpdyProtocol.TypeWindowUpdate:
                RequireExactly(payload, 8, "WINDOW_UPDATE");
                return new WindowUpdateFrame((int)(BinaryPrimitives.ReadUInt32BigEndian(payload) & 0x7FFFFFFF),
                    (int)(BinaryPrimitives.ReadUInt32BigEndian(payload[4..]) & 0x7FFFFFFF));
            default:
                return new UnknownControlFrame(type, flags, payload.Length);
        }
    }

    private static int StreamId(ReadOnlySpan<byte> payload, string frame)
    {
        var id = (int)(BinaryPrimitives.ReadUInt32BigEndian(payload) & 0x7FFFFFFF);
        if (id == 0) throw new SpdyProtocolException($"SPDY {frame} frame for stream 0");
        return id;
    }

    private static void RequireAtLeast(ReadOnlySpan<byte> payload, int length, string frame)
    {
        if (payload.Length < length)
            throw new SpdyProtocolException($"SPDY {frame} frame of {payload.Length} bytes is shorter than {length}");
    }

    private static void RequireExactly(ReadOnlySpan<byte> payload, int length, string frame)
    {
        if (payload.Length != length)
            throw new SpdyProtocolException($"SPDY {frame} frame must be {length} bytes, got {payload.Length}");
    }

    private async ValueTask<bool> FillHeadAsync(CancellationToken ct)
    {
        var filled = 0;
        while (filled < _head.Length)
        {
            var read = await transport.ReadAsync(_head.AsMemory(filled), ct);
            if (read == 0)
            {
                if (filled == 0) return false;
                throw new EndOfStreamException($"SPDY peer closed the connection inside a frame header ({filled} of 8 bytes)");
            }
            filled += read;
        }
        return true;
    }

    private async ValueTask ReadPayloadAsync(byte[] buffer, int length, CancellationToken ct)
    {
        try
        {
            await transport.ReadExactlyAsync(buffer.AsMemory(0, length), ct);
        }
        catch (EndOfStreamException ex)
        {
            throw new EndOfStreamException($"SPDY peer closed the connection inside a frame of {length} bytes", ex);
        }
    }

    public void Dispose() => _headers.Dispose();
}
