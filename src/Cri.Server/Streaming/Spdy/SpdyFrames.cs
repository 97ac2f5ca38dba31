namespace Crisp.Server.Streaming.Spdy;

/// <summary>Decoded SPDY/3 frames: the in-memory model between <see cref="SpdyFrameReader"/> and the connection.</summary>
internal abstract record SpdyFrame;

internal sealed record SynStreamFrame(
    int StreamId, int AssociatedStreamId, byte Priority, byte Flags, IReadOnlyDictionary<string, string> Headers) : SpdyFrame;

internal sealed record SynReplyFrame(int StreamId, byte Flags, IReadOnlyDictionary<string, string> Headers) : SpdyFrame;

internal sealed record HeadersFrame(int StreamId, byte Flags, IReadOnlyDictionary<string, string> Headers) : SpdyFrame;

internal sealed record RstStreamFrame(int StreamId, int Status) : SpdyFrame;

internal readonly record struct SpdySetting(byte Flags, int Id, uint Value);

internal sealed record SettingsFrame(byte Flags, IReadOnlyList<SpdySetting> Settings) : SpdyFrame;

internal sealed record PingFrame(uint Id) : SpdyFrame;

internal sealed record GoAwayFrame(int LastGoodStreamId, int Status) : SpdyFrame;

internal sealed record WindowUpdateFrame(int StreamId, int DeltaWindowSize) : SpdyFrame;

/// <summary>A control frame type this implementation does not know (e.g. CREDENTIAL); SPDY says ignore it.</summary>
internal sealed record UnknownControlFrame(ushort Type, byte Flags, int Length) : SpdyFrame;

/// <summary>
/// A DATA frame. <see cref="Buffer"/> is rented from <see cref="System.Buffers.ArrayPool{T}.Shared"/>
/// and owned by whoever holds the frame: hand it on or return it.
/// </summary>
internal sealed record DataFrame(int StreamId, byte Flags, byte[] Buffer, int Length) : SpdyFrame
{
    public bool Fin => (Flags & SpdyProtocol.FlagFin) != 0;
}
