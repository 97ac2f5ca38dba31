using Microsoft.Extensions.Logging;

namespace Crisp.Server.Streaming.Spdy;

internal static partial class SpdyLog
{
    [LoggerMessage(Level = LogLevel.Debug, Message = "SPDY stream {StreamId} opened by the peer ({HeaderCount} headers)")]
    public static partial void StreamOpened(ILogger logger, int streamId, int headerCount);

    [LoggerMessage(Level = LogLevel.Debug, Message = "SPDY stream {StreamId} reset by the peer with status {Status}")]
    public static partial void StreamResetByPeer(ILogger logger, int streamId, int status);

    [LoggerMessage(Level = LogLevel.Debug, Message = "SPDY {Frame} for unknown or closed stream {StreamId} ignored")]
    public static partial void UnknownStream(ILogger logger, string frame, int streamId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "SPDY SYN_STREAM {StreamId} refused: {Reason}")]
    public static partial void StreamRefused(ILogger logger, int streamId, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "SPDY {Frame} frame ignored")]
    public static partial void FrameIgnored(ILogger logger, string frame);

    [LoggerMessage(Level = LogLevel.Debug, Message = "SPDY peer sent GOAWAY (last good stream {LastGoodStreamId}, status {Status})")]
    public static partial void GoAwayReceived(ILogger logger, int lastGoodStreamId, int status);

    [LoggerMessage(Level = LogLevel.Debug, Message = "SPDY connection closed by the peer")]
    public static partial void PeerClosed(ILogger logger);

    [LoggerMessage(Level = LogLevel.Debug, Message = "SPDY connection lost while reading")]
    public static partial void ReadFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "SPDY protocol error from the peer; sending GOAWAY")]
    public static partial void ProtocolError(ILogger logger, Exception exception);
}
