using Crisp.Server.Limits;

namespace Crisp.Server.Hosting.Http2;

/// <summary>
/// A stateful HPACK decoder (RFC 7541) for one connection's request headers. Hand-written: the
/// framework's HPACK code is internal to Kestrel and System.Net.Http.
/// A block never decodes into more than Kestrel would accept (each name or value at most
/// <paramref name="maxStringBytes"/>, the list at most <paramref name="maxHeaderListBytes"/> counted
/// as RFC 7541 entries): indexed references make a small block expand a lot (an HPACK bomb).
/// </summary>
public sealed class HpackDecoder(
    int maxTableSize = ClientLimits.Http2HeaderTableBytes,
    int maxHeaderListBytes = ClientLimits.Http2MaxHeaderListBytes,
    int maxStringBytes = ClientLimits.Http2MaxHeaderFieldBytes)
{
    private readonly LinkedList<(byte[] Name, byte[] Value)> _dynamic = new();
    private int _tableSize;
    private int _maxTableSize = maxTableSize;
    private readonly int _settingsLimit = maxTableSize;

    public List<(byte[] Name, byte[] Value)> Decode(ReadOnlySpan<byte> block)
    {
        var fields = new List<(byte[], byte[])>();
        var listBytes = 0L;
        var position = 0;
        while (position < block.Length)
        {
            var first = block[position];
            if ((first & 0x80) != 0)
            {
                var index = ReadInteger(block, ref position, 7);
                Add(fields, Lookup(index), ref listBytes);
            }
            else if ((first & 0xC0) == 0x40)
            {
                var field = ReadLiteral(block, ref position, 6);
                Add(fields, field, ref listBytes);
                Insert(field);
            }
            else if ((first & 0xE0) == 0x20)
            {
                var size = ReadInteger(block, ref position, 5);
                if (size > _settingsLimit) throw new HpackException($"table size update {size} above the advertised {_settingsLimit}");
                _maxTableSize = size;
                Evict();
            }
            else
            {
                // 0000xxxx without indexing, 0001xxxx never indexed: both 4-bit prefixes.
                Add(fields, ReadLiteral(block, ref position, 4), ref listBytes);
            }
        }
        return fields;
    }

    private void Add(List<(byte[], byte[])> fields, (byte[] Name, byte[] Value) field, ref long listBytes)
    {
        listBytes += EntrySize(field);
        if (listBytes > maxHeaderListBytes)
            throw new ClientLimitExceededException(nameof(ClientLimits.Http2MaxHeaderListBytes), maxHeaderListBytes,
                $"HTTP/2 header block decodes into more than {maxHeaderListBytes} bytes of headers ({fields.Count + 1} fields so far)");
        fields.Add(field);
    }

    private (byte[], byte[]) ReadLiteral(ReadOnlySpan<byte> block, ref int position, int prefixBits)
    {
        var nameIndex = ReadInteger(block, ref position, prefixBits);
        var name = nameIndex == 0 ? ReadString(block, ref position) : Lookup(nameIndex).Name;
        var value = ReadString(block, ref position);
        return (name, value);
    }

    private (byte[] Name, byte[] Value) Lookup(int index)
    {
        if (index <= 0) throw new HpackException("header index 0");
        // Shared arrays are safe: decoded fields are only read and re-encoded, never written to.
        if (index <= HpackStaticTable.Bytes.Length) return HpackStaticTable.Bytes[index - 1];
        var dynamicIndex = index - HpackStaticTable.Entries.Length - 1;
        if (dynamicIndex >= _dynamic.Count) throw new HpackException($"header index {index} beyond the dynamic table");
        return _dynamic.ElementAt(dynamicIndex);
    }

    private void Insert((byte[] Name, byte[] Value) field)
    {
        var size = EntrySize(field);
        _dynamic.AddFirst(field);
        _tableSize += size;
        Evict();
    }

    private void Evict()
    {
        while (_tableSize > _maxTableSize && _dynamic.Last is { } last)
        {
            _tableSize -= EntrySize(last.Value);
            _dynamic.RemoveLast();
        }
    }

    private static int EntrySize((byte[] Name, byte[] Value) field) => field.Name.Length + field.Value.Length + 32;

    private byte[] ReadString(ReadOnlySpan<byte> block, ref int position)
    {
        if (position >= block.Length) throw new HpackException("truncated string literal");
        var huffman = (block[position] & 0x80) != 0;
        var length = ReadInteger(block, ref position, 7);
        if (length > block.Length - position) throw new HpackException("string literal longer than the block");
        var raw = block.Slice(position, length);
        position += length;
        var value = huffman ? HpackHuffman.Decode(raw) : raw.ToArray();
        if (value.Length > maxStringBytes)
            throw new ClientLimitExceededException(nameof(ClientLimits.Http2MaxHeaderFieldBytes), maxStringBytes,
                $"HTTP/2 header name or value of {value.Length} bytes");
        return value;
    }

    /// <summary>RFC 7541 5.1 prefixed integer.</summary>
    public static int ReadInteger(ReadOnlySpan<byte> block, ref int position, int prefixBits)
    {
        if (position >= block.Length) throw new HpackException("truncated integer");
        var mask = (1 << prefixBits) - 1;
        var value = block[position++] & mask;
        if (value < mask) return value;
        var shift = 0;
        while (true)
        {
            if (position >= block.Length) throw new HpackException("truncated integer");
            var b = block[position++];
            value += (b & 0x7F) << shift;
            if (value < 0 || shift > 21) throw new HpackException("integer overflow");
            if ((b & 0x80) == 0) return value;
            shift += 7;
        }
    }
}
