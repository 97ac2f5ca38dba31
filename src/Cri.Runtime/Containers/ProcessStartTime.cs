using System.Globalization;

namespace Crisp.Runtime.Containers;

/// <summary>
/// A process's start time in clock ticks since boot (/proc/&lt;pid&gt;/stat field 22). Pids wrap quickly
/// (pid_max 32768), so a pid is only trusted when its start time still matches.
/// </summary>
public static class ProcessStartTime
{
    public static ulong? Read(int pid)
    {
        string stat;
        try { stat = File.ReadAllText($"/proc/{pid}/stat"); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
        return Parse(stat);
    }

    internal static ulong? Parse(string stat)
    {
        // comm (field 2) may contain spaces and parentheses: fields after it start after the LAST ')'.
        var close = stat.LastIndexOf(')');
        if (close < 0) return null;
        var rest = stat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // rest[0] is field 3 (state); field 22 is rest[19].
        return rest.Length > 19 && ulong.TryParse(rest[19], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) ? ticks : null;
    }

    public static bool IsSameProcess(int pid, ulong startTime) =>
        pid > 0 && startTime != 0 && Read(pid) == startTime;
}
