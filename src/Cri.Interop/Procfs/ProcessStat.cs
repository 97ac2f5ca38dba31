using System.Globalization;

namespace Crisp.Interop.Procfs;

/// <summary>
/// The fields of /proc/&lt;pid&gt;/stat (proc(5)) that identify a process and place it in the process tree (and its
/// command name, field 2: the executable's name, or what the process set with PR_SET_NAME). The
/// start time (field 22, clock ticks since boot) tells two processes that had the same pid apart: pids wrap
/// within minutes.
/// </summary>
public readonly record struct ProcessStat(int Pid, char State, int ParentPid, int ProcessGroup, ulong StartTime, string Command = "")
{
    // Counted from field 3 (state), the first one after the command name: ppid is 4, pgrp 5, starttime 22.
    private const int ParentPidIndex = 1;
    private const int ProcessGroupIndex = 2;
    private const int StartTimeIndex = 19;

    /// <summary>Exited but not reaped (Z), or dead (X): no longer the running process it was.</summary>
    public bool IsZombie => State is 'Z' or 'X';

    /// <summary>The process's fields now, or null when it does not exist (or its stat cannot be read or parsed).</summary>
    public static ProcessStat? TryRead(int pid) =>
        ProcFile.TryReadText(ProcFile.OfProcess(pid, "stat")) is { } text ? Parse(pid, text) : null;

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

    /// <summary>True when <paramref name="seen"/>'s pid is still that very process and it has not exited.</summary>
    public static bool StillSame(ProcessStat seen) => IsStillRunning(seen.Pid, seen.StartTime);

    /// <summary>True when <paramref name="pid"/> is the process that started at <paramref name="startTime"/> and it has not exited.</summary>
    public static bool IsStillRunning(int pid, ulong startTime) =>
        TryRead(pid) is { } now && now.StartTime == startTime && !now.IsZombie;

    /// <summary>Parses the text of a stat file; null when it is cut short or malformed.</summary>
    public static ProcessStat? Parse(int pid, string text)
    {
        // The command name (field 2) is in parentheses and may itself hold spaces and ')': the fixed fields
        // start after the LAST ')'.
        var open = text.IndexOf('(');
        var close = text.LastIndexOf(')');
        if (open < 0 || close < open) return null;
        var fields = text[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length <= StartTimeIndex || fields[0].Length != 1) return null;
        if (!int.TryParse(fields[ParentPidIndex], NumberStyles.Integer, CultureInfo.InvariantCulture, out var parentPid)
            || !int.TryParse(fields[ProcessGroupIndex], NumberStyles.Integer, CultureInfo.InvariantCulture, out var processGroup)
            || !ulong.TryParse(fields[StartTimeIndex], NumberStyles.None, CultureInfo.InvariantCulture, out var startTime))
            return null;
        return new ProcessStat(pid, fields[0][0], parentPid, processGroup, startTime, text[(open + 1)..close]);
    }
}
