namespace Crisp.Server.Limits;

/// <summary>
/// Every bound crispd puts on what one client connection may make it hold or compute, in one place
/// so the docs can cite it. A client that breaks one is disconnected and the limit is logged by
/// name (<see cref="LimitLog"/>). Values follow the peers where they have one (cited per limit).
/// </summary>
public static class ClientLimits
{
    // ---- SPDY/3.1 streaming connections (exec, attach, port-forward) ----

    /// <summary>Open SPDY streams per connection. exec/attach need 5; port-forward 2 per forwarded
    /// TCP connection. 100 is Kestrel's and RFC 7540's recommended minimum for HTTP/2 streams.</summary>
    public const int SpdyMaxConcurrentStreams = 100;

    /// <summary>Unread bytes one SPDY stream may hold (accepted or not yet picked up); past it the
    /// connection's read loop waits for the reader (TCP back-pressure), so it is a hard cap.</summary>
    public const int SpdyMaxBufferedBytesPerStream = 256 * 1024;

    /// <summary>Payload of one DATA frame. Go's client-go writes through io.Copy (32 KiB frames);
    /// a frame may not exceed what one stream can buffer, or the per-stream cap could not hold.</summary>
    public const int SpdyMaxDataFrameBytes = SpdyMaxBufferedBytesPerStream;

    /// <summary>Payload of one control frame (client control frames are a few hundred bytes).</summary>
    public const int SpdyMaxControlFrameBytes = 1 << 20;

    /// <summary>One inflated SPDY header block (zlib bomb guard).</summary>
    public const int SpdyMaxHeaderBlockBytes = 1 << 20;

    /// <summary>How long the client has to open every stream of an exec/attach session, and the
    /// second stream of a port-forward pair (kubelet's DefaultStreamCreationTimeout).</summary>
    public static readonly TimeSpan StreamCreationTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Port-forward requests with only one of their data/error streams open at a time.</summary>
    public const int PortForwardMaxPendingPairs = SpdyMaxConcurrentStreams / 2;

    // ---- Terminal resize channel (SPDY and WebSocket) ----

    /// <summary>One resize message ({"Width":w,"Height":h} is ~30 bytes); a longer one is refused
    /// before parsing, so parsing stays linear in what the client sent.</summary>
    public const int ResizeMaxMessageBytes = 4 * 1024;

    /// <summary>Sizes queued for the session; when it falls behind, the oldest is dropped (only the
    /// latest size matters).</summary>
    public const int ResizeMaxQueuedSizes = 16;

    // ---- WebSocket streaming connections ----

    /// <summary>Unread bytes one incoming WebSocket channel may hold before the receive loop waits.</summary>
    public const int WebSocketMaxBufferedBytesPerChannel = SpdyMaxBufferedBytesPerStream;

    /// <summary>Ports of one WebSocket port-forward (?port=…; two channels each, as two SPDY streams per pair).</summary>
    public const int WebSocketPortForwardMaxPorts = PortForwardMaxPendingPairs;

    // ---- HTTP/2 front of the CRI socket (the :authority rewrite before Kestrel) ----
    // Kestrel is configured with these same values, so the rewrite never accepts more than Kestrel would.

    /// <summary>SETTINGS_MAX_FRAME_SIZE Kestrel advertises (its default, the RFC 7540 initial value).</summary>
    public const int Http2MaxFrameBytes = 16 * 1024;

    /// <summary>Decoded request header list, counted as RFC 7541 entries (name + value + 32), and
    /// the compressed header block with its CONTINUATION frames (Kestrel's MaxRequestHeadersTotalSize default).</summary>
    public const int Http2MaxHeaderListBytes = 32 * 1024;

    /// <summary>One decoded header field (Kestrel's Http2.MaxRequestHeaderFieldSize default).</summary>
    public const int Http2MaxHeaderFieldBytes = 16 * 1024;

    /// <summary>CONTINUATION frames after one HEADERS frame (nghttp2's bound since the 2024
    /// CONTINUATION flood advisories, CVE-2024-28182); legitimate clients fill frames to the frame size.</summary>
    public const int Http2MaxContinuationFrames = 8;

    /// <summary>HPACK dynamic table size (Kestrel's Http2.HeaderTableSize default).</summary>
    public const int Http2HeaderTableBytes = 4096;
}
