using System.Globalization;

namespace Crisp.Interop.Procfs;

/// <summary>
/// The fields of /proc/&lt;pid&gt;/stat (proc(5)) that identify a process and place it in the process tree (and its
/// command name, field 2: the executable's name, or what the process set with PR_SET_NAME). The
/// start time (field 22, clock ticks since boot) tells two processes that had the same pid apart: pids wrap
/// within minutes. The CPU times (fields 14–17, clock ticks) say what a process and the children it reaped cost.
/// </summary>
public readonly record struct ProcessStat(
    int Pid, char State, int ParentPid, int ProcessGroup, ulong StartTime, string Command = "", ulong CpuTicks = 0, ulong ReapedChildrenCpuTicks = 0)
{
    // Counted from field 3 (state), the first one after the command name: ppid is 4, pgrp 5, utime 14, stime 15,
    // cutime 16, cstime 17, starttime 22.
    private const int ParentPidIndex = 1;
    private const int ProcessGroupIndex = 2;
    private const int UserTimeIndex = 11;
    private const int SystemTimeIndex = 12;
    private const int ChildrenUserTimeIndex = 13;
    private const int ChildrenSystemTimeIndex = 14;
    private const int StartTimeIndex = 19;

    /// <summary>USER_HZ: the unit of the CPU times in stat, fixed at 100 by the kernel's ABI on every Linux architecture crisp runs on.</summary>
    public const int ClockTicksPerSecond = 100;

    /// <summary>User plus system time of the process itself.</summary>
    public TimeSpan CpuTime => TimeSpan.FromSeconds((double)CpuTicks / ClockTicksPerSecond);

    /// <summary>User plus system time of the children it has waited for (and of theirs).</summary>
    public TimeSpan ReapedChildrenCpuTime => TimeSpan.FromSeconds((double)ReapedChildrenCpuTicks / ClockTicksPerSecond);

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
            || !ulong.TryParse(fields[StartTimeIndex], NumberStyles.None, CultureInfo.InvariantCulture, out var startTime)
            || !ulong.TryParse(fields[UserTimeIndex], NumberStyles.None, CultureInfo.InvariantCulture, out var userTime)
            || !ulong.TryParse(fields[SystemTimeIndex], NumberStyles.None, CultureInfo.InvariantCulture, out var systemTime)
            || !ulong.TryParse(fields[ChildrenUserTimeIndex], NumberStyles.None, CultureInfo.InvariantCulture, out var childrenUserTime)
            || !ulong.TryParse(fields[ChildrenSystemTimeIndex], NumberStyles.None, CultureInfo.InvariantCulture, out var childrenSystemTime))
            return null;
        return new ProcessStat(pid, fields[0][0], parentPid, processGroup, startTime, text[(open + 1)..close],
            userTime + systemTime, childrenUserTime + childrenSystemTime);
    }
}
