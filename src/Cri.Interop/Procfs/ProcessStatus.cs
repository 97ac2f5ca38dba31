using System.Globalization;

namespace Crisp.Interop.Procfs;

/// <summary>Fields of /proc/&lt;pid&gt;/status (proc(5)): one "Name:&lt;tab&gt;value" per line.</summary>
public static class ProcessStatus
{
    /// <summary>The value of <paramref name="field"/> (trimmed), or null when the kernel does not report it.</summary>
    public static string? Field(string statusText, string field)
    {
        foreach (var line in statusText.Split('\n'))
        {
            if (line.Length > field.Length && line[field.Length] == ':' && line.StartsWith(field, StringComparison.Ordinal))
                return line[(field.Length + 1)..].Trim();
        }
        return null;
    }

    /// <summary>A hexadecimal mask field such as CapEff or CapBnd, or null when absent or not hexadecimal.</summary>
    public static ulong? HexMask(string statusText, string field) =>
        Field(statusText, field) is { } hex && ulong.TryParse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var mask)
            ? mask : null;
}
