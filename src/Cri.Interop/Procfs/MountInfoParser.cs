using System.Globalization;
using System.Text;

namespace Crisp.Interop.Procfs;

/// <summary>Parses mountinfo lines; the one place that knows the format and its escapes.</summary>
public static class MountInfoParser
{
    // Fields before the optional ones: id, parent, major:minor, root, mount point, mount options.
    private const int FixedFieldCount = 6;

    /// <summary>The entry a line describes, or null when the line does not have mountinfo's shape.</summary>
    public static MountInfoEntry? ParseLine(string line)
    {
        // Separators are single spaces and the kernel escapes spaces inside fields, so an empty field (a mount
        // whose source is "") is a real, empty value: no empty entries may be dropped.
        var fields = line.Split(' ');
        if (fields.Length <= FixedFieldCount) return null;
        var separator = Array.IndexOf(fields, "-", FixedFieldCount);
        if (separator < 0 || fields.Length < separator + 4) return null;
        if (!int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var mountId)
            || !int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var parentId))
            return null;
        return new MountInfoEntry(
            mountId,
            parentId,
            fields[2],
            Unescape(fields[3]),
            Unescape(fields[4]),
            fields[5].Split(','),
            fields[FixedFieldCount..separator],
            Unescape(fields[separator + 1]),
            Unescape(fields[separator + 2]),
            // Option values escape their commas (seq_show_option), so split first, then decode each option.
            Array.ConvertAll(fields[separator + 3].Split(','), Unescape));
    }

    /// <summary>Every well-formed line, in the kernel's order (a later mount at the same point is on top).</summary>
    public static IReadOnlyList<MountInfoEntry> Parse(IEnumerable<string> lines)
    {
        var entries = new List<MountInfoEntry>();
        foreach (var line in lines)
            if (ParseLine(line) is { } entry) entries.Add(entry);
        return entries;
    }

    /// <summary>
    /// Decodes the kernel's <c>\ooo</c> escapes (it escapes space, tab, newline and backslash):
    /// a backslash followed by exactly three octal digits; any other backslash is a literal one.
    /// </summary>
    public static string Unescape(string field)
    {
        if (!field.Contains('\\')) return field;
        var decoded = new StringBuilder(field.Length);
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length && IsOctalDigit(field[i + 1]) && IsOctalDigit(field[i + 2]) && IsOctalDigit(field[i + 3]))
            {
                decoded.Append((char)(((field[i + 1] - '0') << 6) | ((field[i + 2] - '0') << 3) | (field[i + 3] - '0')));
                i += 3;
            }
            else
            {
                decoded.Append(field[i]);
            }
        }
        return decoded.ToString();
    }

    private static bool IsOctalDigit(char c) => c is >= '0' and <= '7';
}
