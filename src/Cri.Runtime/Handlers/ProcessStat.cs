using System.Globalization;

namespace Crisp.Runtime.Handlers;

/// <summary>
/// The fields of /proc/&lt;pid&gt;/stat that identify a process and place it in the process tree. The start time
/// (clock ticks since boot) tells two processes that had the same pid apart: pids wrap within minutes.
/// </summary>
internal readonly record struct ProcessStat(int Pid, char State, int ParentPid, int ProcessGroup, ulong StartTime)
{
    public bool IsZombie => State is 'Z' or 'X';

    public static ProcessStat? TryRead(int pid)
    {
        try { return Parse(pid, File.ReadAllText("/proc/" + pid.ToString(CultureInfo.InvariantCulture) + "/stat")); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>Every process the host's /proc shows right now (host pids).</summary>
    public static List<ProcessStat> ReadAll()
    {
        var all = new List<ProcessStat>(512);
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) continue;
            if (TryRead(pid) is { } stat) all.Add(stat);
        }
        return all;
    }

    /// <summary>True when <paramref name="pid"/> is still the very process <paramref name="seen"/> described.</summary>
    public static bool StillSame(ProcessStat seen) =>
        TryRead(seen.Pid) is { } now && now.StartTime == seen.StartTime && !now.IsZombie;

    internal static ProcessStat? Parse(int pid, string text)
    {
        // comm may hold spaces and parentheses: the fixed fields start after the last ')'.
        var close = text.LastIndexOf(')');
        if (close < 0 || close + 2 >= text.Length) return null;
        var fields = text[(close + 2)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 20 || fields[0].Length != 1) return null;
        if (!int.TryParse(fields[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var ppid)
            || !int.TryParse(fields[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out var pgrp)
            || !ulong.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var start))
            return null;
        return new ProcessStat(pid, fields[0][0], ppid, pgrp, start);
    }
}
