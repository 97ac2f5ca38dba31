using System.Globalization;
using Crisp.Runtime.Api;

namespace Crisp.Runtime.Cgroups;

/// <summary>
/// The text formats of the cgroup stat files, parsed without touching the filesystem: a missing file is passed in
/// as null and reads as "nothing", a line that does not parse is skipped (kernels add fields over time).
/// </summary>
internal static class CgroupStatParsers
{
    /// <summary>"key value" lines (memory.stat, cpu.stat, memory.events, memory.oom_control).</summary>
    public static Dictionary<string, ulong> KeyValues(string? text)
    {
        var result = new Dictionary<string, ulong>(StringComparer.Ordinal);
        if (text is null) return result;
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var space = line.IndexOf(' ');
            if (space <= 0) continue;
            if (ulong.TryParse(line.AsSpan(space + 1).Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v))
                result[line[..space]] = v;
        }
        return result;
    }

    /// <summary>
    /// A PSI file (cpu.pressure, memory.pressure, io.pressure):
    /// "some avg10=0.00 avg60=0.00 avg300=0.00 total=0" and the same for "full". Null when neither line parses.
    /// </summary>
    public static CgroupPressure? Pressure(string? text)
    {
        if (text is null) return null;
        PressureLine? some = null, full = null;
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 5 || !TryParsePressureLine(fields, out var parsed)) continue;
            if (fields[0] == "some") some = parsed;
            else if (fields[0] == "full") full = parsed;
        }
        return some is null && full is null ? null : new CgroupPressure(some, full);
    }

    private static bool TryParsePressureLine(string[] fields, out PressureLine line)
    {
        double avg10 = 0, avg60 = 0, avg300 = 0;
        ulong total = 0;
        var seen = 0;
        foreach (var field in fields.AsSpan(1))
        {
            var eq = field.IndexOf('=');
            if (eq <= 0) continue;
            var value = field.AsSpan(eq + 1);
            var ok = field[..eq] switch
            {
                "avg10" => double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out avg10),
                "avg60" => double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out avg60),
                "avg300" => double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out avg300),
                "total" => ulong.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out total),
                _ => false,
            };
            if (ok) seen++;
        }
        line = new PressureLine(avg10, avg60, avg300, total);
        return seen == 4;
    }

    /// <summary>cgroup v2 io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N" per device, summed.</summary>
    public static CgroupIo? IoStat(string? text)
    {
        if (text is null) return null;
        ulong read = 0, written = 0;
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (var field in line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1))
            {
                var eq = field.IndexOf('=');
                if (eq <= 0 || !ulong.TryParse(field.AsSpan(eq + 1), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)) continue;
                if (field.StartsWith("rbytes=", StringComparison.Ordinal)) read += v;
                else if (field.StartsWith("wbytes=", StringComparison.Ordinal)) written += v;
            }
        }
        return new CgroupIo(read, written);
    }

    /// <summary>
    /// cgroup v1 blkio.throttle.io_service_bytes(_recursive): "MAJ:MIN Read N", "MAJ:MIN Write N", ... per device and
    /// a closing "Total N"; Read and Write are summed over devices.
    /// </summary>
    public static CgroupIo? BlkioServiceBytes(string? text)
    {
        if (text is null) return null;
        ulong read = 0, written = 0;
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length != 3 || !ulong.TryParse(fields[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)) continue;
            if (fields[1] == "Read") read += v;
            else if (fields[1] == "Write") written += v;
        }
        return new CgroupIo(read, written);
    }

    /// <summary>A v2 limit file (memory.max, memory.swap.max): the byte count, or null for "max" (no limit) and unreadable text.</summary>
    public static ulong? Limit(string? text) =>
        ulong.TryParse(text?.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null;
}
