namespace Crisp.Server.Hosting.Http2;

/// <summary>
/// Decoder for HPACK's static Huffman code (RFC 7541 Appendix B). Hand-written because .NET keeps
/// its HPACK implementation internal and no maintained package offers one. The code is canonical,
/// so the table holds only each symbol's code length; codes are derived at start-up.
/// </summary>
public static class HpackHuffman
{
    // Code length in bits of symbols 0..255 and EOS (256), transcribed from RFC 7541 Appendix B.
    private static readonly byte[] CodeLengths =
    [
        13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
        6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
        5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
        13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
        7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
        15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
        6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
        20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
        24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
        22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
        21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
        26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
        19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
        20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
        26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
        30,
    ];

    private const int MaxLength = 30;
    private const int Eos = 256;

    // Canonical decoding tables: for each length, the first code of that length, how many codes
    // have it, and where their symbols start in SymbolsByCode.
    private static readonly uint[] FirstCode = new uint[MaxLength + 1];
    private static readonly int[] CountAtLength = new int[MaxLength + 1];
    private static readonly int[] FirstIndex = new int[MaxLength + 1];
    private static readonly int[] SymbolsByCode;

    static HpackHuffman()
    {
        SymbolsByCode = Enumerable.Range(0, CodeLengths.Length)
            .OrderBy(s => CodeLengths[s]).ThenBy(s => s).ToArray();
        foreach (var length in CodeLengths) CountAtLength[length]++;
        uint code = 0;
        var index = 0;
        for (var length = 1; length <= MaxLength; length++)
        {
            FirstCode[length] = code;
            FirstIndex[length] = index;
            code = (code + (uint)CountAtLength[length]) << 1;
            index += CountAtLength[length];
        }
    }

    /// <summary>Decodes a Huffman-coded string; throws <see cref="HpackException"/> on invalid input.</summary>
    public static byte[] Decode(ReadOnlySpan<byte> encoded)
    {
        var output = new List<byte>(encoded.Length * 8 / 5);
        uint code = 0;
        var length = 0;
        var paddingOnes = true;
        foreach (var b in encoded)
        {
            for (var bit = 7; bit >= 0; bit--)
            {
                var one = ((b >> bit) & 1) == 1;
                code = (code << 1) | (one ? 1u : 0u);
                length++;
                paddingOnes &= one;
                if (length > MaxLength) throw new HpackException("Huffman code longer than 30 bits");
                var offset = code - FirstCode[length];
                if (code >= FirstCode[length] && offset < (uint)CountAtLength[length])
                {
                    var symbol = SymbolsByCode[FirstIndex[length] + (int)offset];
                    if (symbol == Eos) throw new HpackException("EOS symbol inside a Huffman string");
                    output.Add((byte)symbol);
                    code = 0;
                    length = 0;
                    paddingOnes = true;
                }
            }
        }
        // RFC 7541 5.2: padding is the most significant bits of EOS (all ones), shorter than 8 bits.
        if (length > 7 || !paddingOnes) throw new HpackException("invalid Huffman padding");
        return output.ToArray();
    }
}
