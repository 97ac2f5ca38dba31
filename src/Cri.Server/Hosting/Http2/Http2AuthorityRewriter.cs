using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Crisp.Server.Limits;

namespace Crisp.Server.Hosting.Http2;

/// <summary>
/// Rewrites the client side of one HTTP/2 connection so Kestrel accepts gRPC clients that send the
/// unix socket path as <c>:authority</c> (grpc-go dialling a bare path does, and so do crictl,
/// critest and many kubelets). Kestrel rejects such a request with PROTOCOL_ERROR and offers no
/// switch (dotnet/aspnetcore#47043), so every request header block is decoded here and re-encoded
/// as plain literals with an invalid authority replaced by "localhost". All other frames pass
/// through untouched. Pure byte-in/byte-out: the transport plumbing lives in
/// <see cref="UnixAuthorityMiddleware"/>.
/// <para>
/// Nothing is held or decoded beyond Kestrel's own limits (<see cref="ClientLimits"/>, Kestrel is
/// configured with the same values): a frame larger than the advertised frame size, a header block
/// whose HEADERS + CONTINUATION payload or decoded list passes the header list limit, or more than
/// <see cref="ClientLimits.Http2MaxContinuationFrames"/> CONTINUATION frames throw
/// <see cref="ClientLimitExceededException"/> and the connection is closed.
/// </para>
/// <para>
/// A client that names a valid authority (grpc-go dialling "unix:///path" sends "localhost") pays for this once:
/// when the connection's first header block carries a valid <c>:authority</c>, its original frames are forwarded,
/// <see cref="Process"/> stops right after them and <see cref="PassingThrough"/> turns true: the caller hands the
/// rest of the connection to Kestrel untouched, with no decoding and no copy. That is safe only while Kestrel's
/// HPACK table has seen exactly the client's blocks, so a connection whose first block had to be rewritten stays
/// in rewrite mode for good. A gRPC channel keeps one authority for its life.
/// </para>
/// </summary>
public sealed class Http2AuthorityRewriter
{
    public const int FrameHeaderLength = 9;
    /// <summary>SETTINGS_MAX_FRAME_SIZE Kestrel advertises; re-encoded blocks are split to fit.</summary>
    public const int MaxFramePayload = ClientLimits.Http2MaxFrameBytes;
    public static readonly byte[] ReplacementAuthority = "localhost"u8.ToArray();

    private const byte FrameHeaders = 0x1;
    private const byte FrameContinuation = 0x9;
    private const byte FlagEndStream = 0x1;
    private const byte FlagEndHeaders = 0x4;
    private const byte FlagPadded = 0x8;
    private const byte FlagPriority = 0x20;
    private const int PrefaceLength = 24;

    private readonly HpackDecoder _decoder = new();
    private int _prefaceRemaining = PrefaceLength;
    private List<byte>? _block;
    private int _continuations;
    private int _blockStreamId;
    private byte _blockFlags;
    private byte[] _blockPriority = [];
    private readonly ArrayBufferWriter<byte> _blockFrames = new();
    private bool _firstBlockSeen;

    /// <summary>
    /// True once the connection is known not to need rewriting: everything after what <see cref="Process"/> consumed
    /// belongs to Kestrel as is, and Process must not be called again.
    /// </summary>
    public bool PassingThrough { get; private set; }

    /// <summary>
    /// Transforms as many complete frames of <paramref name="input"/> as possible; returns how far it consumed. Only
    /// whole frames are written, so when <see cref="PassingThrough"/> turns true the output ends on a frame boundary.
    /// </summary>
    public SequencePosition Process(ReadOnlySequence<byte> input, IBufferWriter<byte> output)
    {
        var reader = new SequenceReader<byte>(input);
        if (_prefaceRemaining > 0)
        {
            var take = (int)Math.Min(_prefaceRemaining, reader.Remaining);
            Write(output, input.Slice(reader.Position, take));
            reader.Advance(take);
            _prefaceRemaining -= take;
            if (_prefaceRemaining > 0) return reader.Position;
        }

        Span<byte> header = stackalloc byte[FrameHeaderLength];
        while (!PassingThrough && reader.Remaining >= FrameHeaderLength)
        {
            reader.TryCopyTo(header);
            var length = (header[0] << 16) | (header[1] << 8) | header[2];
            if (length > MaxFramePayload)
                throw new ClientLimitExceededException(nameof(ClientLimits.Http2MaxFrameBytes), MaxFramePayload,
                    $"HTTP/2 frame type {header[3]} of {length} bytes");
            if (reader.Remaining < FrameHeaderLength + length) break;
            var type = header[3];
            var flags = header[4];
            var streamId = (int)(BinaryPrimitives.ReadUInt32BigEndian(header[5..]) & 0x7FFFFFFF);

            if (type == FrameHeaders || (type == FrameContinuation && _block is not null))
            {
                var frame = input.Slice(reader.Position, FrameHeaderLength + length);
                var payload = frame.Slice(FrameHeaderLength).ToArray();
                if (type == FrameHeaders) _blockFrames.ResetWrittenCount();
                if (!_firstBlockSeen) Write(_blockFrames, frame);
                if (type == FrameHeaders) StartBlock(streamId, flags, payload);
                else AppendContinuation(payload);
                if ((flags & FlagEndHeaders) != 0) EmitBlock(output);
            }
            else
            {
                Write(output, input.Slice(reader.Position, FrameHeaderLength + length));
            }
            reader.Advance(FrameHeaderLength + length);
        }
        return reader.Position;
    }

    private void StartBlock(int streamId, byte flags, byte[] payload)
    {
        var offset = 0;
        var end = payload.Length;
        if ((flags & FlagPadded) != 0)
        {
            if (payload.Length < 1) throw new HpackException("HEADERS frame too short for its padding");
            end -= payload[0];
            offset = 1;
        }
        _blockPriority = [];
        if ((flags & FlagPriority) != 0)
        {
            if (end - offset < 5) throw new HpackException("HEADERS frame too short for its priority");
            _blockPriority = payload[offset..(offset + 5)];
            offset += 5;
        }
        if (end < offset) throw new HpackException("HEADERS padding longer than the frame");
        _blockStreamId = streamId;
        _blockFlags = flags;
        _block = new List<byte>(payload[offset..end]);
        _continuations = 0;
    }

    private void AppendContinuation(byte[] payload)
    {
        if (++_continuations > ClientLimits.Http2MaxContinuationFrames)
            throw new ClientLimitExceededException(nameof(ClientLimits.Http2MaxContinuationFrames), ClientLimits.Http2MaxContinuationFrames,
                $"HTTP/2 header block of stream {_blockStreamId} still open after {ClientLimits.Http2MaxContinuationFrames} CONTINUATION frames");
        if (_block!.Count + payload.Length > ClientLimits.Http2MaxHeaderListBytes)
            throw new ClientLimitExceededException(nameof(ClientLimits.Http2MaxHeaderListBytes), ClientLimits.Http2MaxHeaderListBytes,
                $"HTTP/2 header block of stream {_blockStreamId} passes {ClientLimits.Http2MaxHeaderListBytes} bytes compressed");
        _block.AddRange(payload);
    }

    private void EmitBlock(IBufferWriter<byte> output)
    {
        var fields = _decoder.Decode(_block!.ToArray());
        var authority = fields.FindIndex(f => f.Name.AsSpan().SequenceEqual(":authority"u8));
        if (!_firstBlockSeen)
        {
            _firstBlockSeen = true;
            if (authority >= 0 && IsValidAuthority(fields[authority].Value))
            {
                _block = null;
                Write(output, new ReadOnlySequence<byte>(_blockFrames.WrittenMemory));
                _blockFrames.Clear();
                PassingThrough = true;
                return;
            }
        }
        for (var i = 0; i < fields.Count; i++)
        {
            if (fields[i].Name.AsSpan().SequenceEqual(":authority"u8) && !IsValidAuthority(fields[i].Value))
                fields[i] = (fields[i].Name, ReplacementAuthority);
        }
        var encoded = HpackLiteralEncoder.Encode(fields);
        _block = null;

        var firstCapacity = MaxFramePayload - _blockPriority.Length;
        var firstLength = Math.Min(firstCapacity, encoded.Length);
        var onlyFrame = firstLength == encoded.Length;
        var firstFlags = (byte)((_blockFlags & (FlagEndStream | FlagPriority)) | (onlyFrame ? FlagEndHeaders : 0));
        WriteFrame(output, FrameHeaders, firstFlags, _blockStreamId, _blockPriority, encoded.AsSpan(0, firstLength));
        for (var offset = firstLength; offset < encoded.Length; offset += MaxFramePayload)
        {
            var chunk = Math.Min(MaxFramePayload, encoded.Length - offset);
            var last = offset + chunk == encoded.Length;
            WriteFrame(output, FrameContinuation, last ? FlagEndHeaders : (byte)0, _blockStreamId, [], encoded.AsSpan(offset, chunk));
        }
    }

    private static void WriteFrame(IBufferWriter<byte> output, byte type, byte flags, int streamId, ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> payload)
    {
        var length = prefix.Length + payload.Length;
        var span = output.GetSpan(FrameHeaderLength + length);
        span[0] = (byte)(length >> 16);
        span[1] = (byte)(length >> 8);
        span[2] = (byte)length;
        span[3] = type;
        span[4] = flags;
        BinaryPrimitives.WriteUInt32BigEndian(span[5..], (uint)streamId);
        prefix.CopyTo(span[FrameHeaderLength..]);
        payload.CopyTo(span[(FrameHeaderLength + prefix.Length)..]);
        output.Advance(FrameHeaderLength + length);
    }

    private static void Write(IBufferWriter<byte> output, ReadOnlySequence<byte> bytes)
    {
        foreach (var segment in bytes)
        {
            segment.Span.CopyTo(output.GetSpan(segment.Length));
            output.Advance(segment.Length);
        }
    }

    /// <summary>RFC 3986 host[:port] characters (reg-name, IP literal brackets, port digits).</summary>
    public static bool IsValidAuthority(ReadOnlySpan<byte> value)
    {
        if (value.IsEmpty) return false;
        foreach (var c in value)
        {
            var ok = c is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' or >= (byte)'0' and <= (byte)'9'
                || "-._~!$&'()*+,;=:%[]"u8.Contains(c);
            if (!ok) return false;
        }
        return true;
    }

    public static string Describe(ReadOnlySpan<byte> value) => Encoding.ASCII.GetString(value);
}
