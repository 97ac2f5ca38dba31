using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Crisp.Server.Streaming.Spdy;

/// <summary>
/// The uncompressed SPDY/3 Name/Value header block: a 32-bit pair count, then for each pair a
/// 32-bit name length, the name, a 32-bit value length and the value (SPDY/2 used 16 bits; the
/// Go framer spdystream uses writes and expects 32). Multiple values of one name are joined with
/// NUL inside one value; we keep such a value as sent.
/// </summary>
internal static class SpdyHeaderBlock
{
    /// <summary>Response headers the Go framer rejects outright (HTTP/1.1 hop-by-hop headers).</summary>
    private static readonly HashSet<string> ForbiddenReplyNames =
        new(StringComparer.Ordinal) { "connection", "keep-alive", "proxy-connection", "transfer-encoding" };

    /// <summary>Lower-cases names (the Go reader fails the whole connection on an upper-case
    /// name) and refuses what a peer would reject, naming the header.</summary>
    public static List<KeyValuePair<string, string>> NormalizeForReply(IReadOnlyDictionary<string, string> headers)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<KeyValuePair<string, string>>(headers.Count);
        foreach (var (name, value) in headers)
        {
            if (string.IsNullOrEmpty(name))
                throw new ArgumentException("SPDY header names must not be empty", nameof(headers));
            if (name.Contains('\0'))
                throw new ArgumentException($"SPDY header name '{name}' contains NUL", nameof(headers));
            var lower = name.ToLowerInvariant();
            if (ForbiddenReplyNames.Contains(lower))
                throw new ArgumentException($"SPDY replies must not carry the hop-by-hop header '{lower}'", nameof(headers));
            if (!seen.Add(lower))
                throw new ArgumentException($"SPDY header '{lower}' given twice (names are case-insensitive)", nameof(headers));
            result.Add(new(lower, value ?? ""));
        }
        return result;
    }

    public static void Encode(IReadOnlyCollection<KeyValuePair<string, string>> headers, IBufferWriter<byte> output)
    {
        WriteUInt32(output, (uint)headers.Count);
        foreach (var (name, value) in headers)
        {
            WriteString(output, name);
            WriteString(output, value);
        }
    }

    public static Dictionary<string, string> Decode(ReadOnlySpan<byte> block)
    {
        var reader = new BlockReader(block);
        var count = reader.ReadUInt32("pair count");
        // Each pair needs at least two 4-byte lengths; a larger count is a lie, not a big block.
        if (count > (uint)(block.Length / 8))
            throw new SpdyProtocolException($"SPDY header block claims {count} pairs in {block.Length} bytes");
        var headers = new Dictionary<string, string>((int)count, StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < count; i++)
        {
            var name = reader.ReadString("name").ToLowerInvariant();
            var value = reader.ReadString($"value of '{name}'");
            if (name.Length == 0)
                throw new SpdyProtocolException("SPDY header block has an empty header name");
            if (!headers.TryAdd(name, value))
                throw new SpdyProtocolException($"SPDY header block repeats header '{name}'");
        }
        if (!reader.AtEnd)
            throw new SpdyProtocolException($"SPDY header block has {reader.Remaining} bytes after its last pair");
        return headers;
    }

    private static void WriteUInt32(IBufferWriter<byte> output, uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(output.GetSpan(4), value);
        output.Advance(4);
    }

    private static void WriteString(IBufferWriter<byte> output, string value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        WriteUInt32(output, (uint)length);
        var written = Encoding.UTF8.GetBytes(value, output.GetSpan(length));
        output.Advance(written);
    }

    private ref struct BlockReader(ReadOnlySpan<byte> block)
    {
        private readonly ReadOnlySpan<byte> _block = block;
        private int _position;

        public readonly bool AtEnd => _position == _block.Length;
        public readonly int Remaining => _block.Length - _position;

        public uint ReadUInt32(string what)
        {
            if (Remaining < 4)
                throw new SpdyProtocolException($"SPDY header block truncated in the length of the {what}");
            var value = BinaryPrimitives.ReadUInt32BigEndian(_block[_position..]);
            _position += 4;
            return value;
        }

        public string ReadString(string what)
        {
            var length = ReadUInt32(what);
            if (length > (uint)Remaining)
                throw new SpdyProtocolException($"SPDY header block truncated in the {what} ({length} bytes announced, {Remaining} left)");
            var value = Encoding.UTF8.GetString(_block.Slice(_position, (int)length));
            _position += (int)length;
            return value;
        }
    }
}
