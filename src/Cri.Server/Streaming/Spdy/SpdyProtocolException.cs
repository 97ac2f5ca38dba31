namespace Crisp.Server.Streaming.Spdy;

/// <summary>The peer broke the SPDY/3 framing; the connection cannot continue (a GOAWAY with
/// PROTOCOL_ERROR is sent before the exception leaves <see cref="SpdyConnection.RunAsync"/>).</summary>
public sealed class SpdyProtocolException : IOException
{
    public SpdyProtocolException(string message) : base(message) { }
    public SpdyProtocolException(string message, Exception inner) : base(message, inner) { }
}
