namespace Crisp.Server.Streaming.Spdy;

/// <summary>Wire constants of SPDY/3(.1) as spoken by github.com/moby/spdystream (kubelet, crictl, critest).</summary>
internal static class SpdyProtocol
{
    public const int Version = 3;

    public const ushort TypeSynStream = 1;
    public const ushort TypeSynReply = 2;
    public const ushort TypeRstStream = 3;
    public const ushort TypeSettings = 4;
    public const ushort TypePing = 6;
    public const ushort TypeGoAway = 7;
    public const ushort TypeHeaders = 8;
    public const ushort TypeWindowUpdate = 9;

    public const byte FlagFin = 0x01;
    public const byte FlagUnidirectional = 0x02;

    public const int FrameHeaderLength = 8;
    public const int MaxFrameLength = (1 << 24) - 1;

    /// <summary>Our DATA frames carry at most this much, so one stream's large write cannot
    /// hold the connection's writer for long and other streams' frames can interleave.</summary>
    public const int MaxDataChunk = 16 * 1024;

    public const int GoAwayOk = 0;
    public const int GoAwayProtocolError = 1;
    public const int GoAwayInternalError = 2;
}
