using System.Globalization;

namespace Crisp.Interop.Procfs;

/// <summary>/proc/meminfo (proc(5)): "Name:   value kB" lines, the same layout as /proc/&lt;pid&gt;/status.</summary>
public static class MemInfo
{
    public const string FilePath = "/proc/meminfo";

    /// <summary>A "kB" field in bytes, or null when the kernel does not report it.</summary>
    public static ulong? Bytes(string meminfoText, string field)
    {
        if (ProcessStatus.Field(meminfoText, field) is not { } value) return null;
        var number = value.EndsWith(" kB", StringComparison.Ordinal) ? value[..^3].TrimEnd() : value;
        return ulong.TryParse(number, NumberStyles.Integer, CultureInfo.InvariantCulture, out var kib) ? kib * 1024 : null;
    }

    /// <summary>Swap the host has left (0 with no swap device), or null when /proc/meminfo cannot be read.</summary>
    public static ulong? SwapFreeBytes() => ProcFile.TryReadText(FilePath) is { } text ? Bytes(text, "SwapFree") : null;
}
