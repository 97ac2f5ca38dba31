using System.Globalization;

namespace Crisp.Runtime.Host;

/// <summary>
/// A process named by pid plus its start time (clock ticks since boot, /proc/&lt;pid&gt;/stat field 22). pid_max is
/// small and pids wrap within minutes, so a pid alone never identifies a process across crispd restarts.
/// </summary>
public readonly record struct ProcessIdentity(int Pid, ulong StartTime)
{
    /// <summary>The identity of a live process, or null when it does not exist.</summary>
    public static ProcessIdentity? Of(int pid)
    {
        var start = ReadStartTime(pid);
        return start is null ? null : new ProcessIdentity(pid, start.Value);
    }

    /// <summary>True only when the pid exists and is still the same process (not a zombie).</summary>
    public bool IsAlive()
    {
        var stat = ReadStat(Pid);
        return stat is not null && ParseStartTime(stat) == StartTime && ParseState(stat) != 'Z';
    }

    /// <summary>
    /// Sends <paramref name="signal"/> only while the pid is still this process, its start time re-read right
    /// before: a pid read from a file may by now name an unrelated process. False when it is gone or recycled.
    /// </summary>
    public bool Signal(int signal) => IsAlive() && Crisp.Interop.Libc.Kill(Pid, signal);

    public override string ToString() => $"{Pid.ToString(CultureInfo.InvariantCulture)} {StartTime.ToString(CultureInfo.InvariantCulture)}";

    public static ProcessIdentity? Parse(string? text)
    {
        var parts = text?.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts is not { Length: 2 }) return null;
        return int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid)
            && ulong.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var start)
            ? new ProcessIdentity(pid, start) : null;
    }

    internal static ulong? ReadStartTime(int pid)
    {
        var stat = ReadStat(pid);
        return stat is null ? null : ParseStartTime(stat);
    }

    private static string? ReadStat(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat"); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>Fields after the command name, which is parenthesised and may itself contain spaces or parentheses.</summary>
    private static string[] FieldsAfterComm(string stat)
    {
        var close = stat.LastIndexOf(')');
        return close < 0 ? [] : stat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }

    internal static ulong? ParseStartTime(string stat)
    {
        // After "(comm)" comes field 3 (state); starttime is field 22, i.e. index 19 here.
        var fields = FieldsAfterComm(stat);
        return fields.Length > 19 && ulong.TryParse(fields[19], NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null;
    }

    private static char ParseState(string stat)
    {
        var fields = FieldsAfterComm(stat);
        return fields.Length > 0 && fields[0].Length > 0 ? fields[0][0] : '?';
    }
}
