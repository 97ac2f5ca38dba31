namespace Crisp.Server.Hosting.Http2;

/// <summary>
/// Encodes a header list as HPACK literals without indexing and without Huffman coding, so the
/// receiving decoder never adds dynamic-table entries and its table cannot drift from ours.
/// </summary>
public static class HpackLiteralEncoder
{
    public static byte[] Encode(IEnumerable<(byte[] Name, byte[] Value)> fields)
    {
        var output = new List<byte>(256);
        foreach (var (name, value) in fields)
        {
            output.Add(0x00); // literal without indexing, new name
            WriteString(output, name);
            WriteString(output, value);
        }
        return output.ToArray();
    }

    private static void WriteString(List<byte> output, byte[] value)
    {
        WriteInteger(output, value.Length, 7, 0x00);
        output.AddRange(value);
    }

    public static void WriteInteger(List<byte> output, int value, int prefixBits, byte flags)
    {
        var max = (1 << prefixBits) - 1;
        if (value < max)
        {
            output.Add((byte)(flags | value));
            return;
        }
        output.Add((byte)(flags | max));
        value -= max;
        while (value >= 0x80)
        {
            output.Add((byte)((value & 0x7F) | 0x80));
            value >>= 7;
        }
        output.Add((byte)value);
    }
}
