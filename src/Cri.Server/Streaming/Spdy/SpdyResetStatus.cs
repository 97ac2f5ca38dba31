namespace Crisp.Server.Streaming.Spdy;

/// <summary>RST_STREAM status codes (SPDY/3 section 2.6.3); zero is not a valid status.</summary>
public static class SpdyResetStatus
{
    public const int ProtocolError = 1;
    public const int InvalidStream = 2;
    public const int RefusedStream = 3;
    public const int UnsupportedVersion = 4;
    public const int Cancel = 5;
    public const int InternalError = 6;
    public const int FlowControlError = 7;
    public const int StreamInUse = 8;
    public const int StreamAlreadyClosed = 9;
    public const int InvalidCredentials = 10;
    public const int FrameTooLarge = 11;

    public static bool IsValid(int status) => status is >= ProtocolError and <= FrameTooLarge;
}
