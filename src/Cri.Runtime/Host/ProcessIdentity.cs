using System.Globalization;
using Crisp.Interop.Procfs;

namespace Crisp.Runtime.Host;

/// <summary>
/// A process named by pid plus its start time (clock ticks since boot, /proc/&lt;pid&gt;/stat field 22). pid_max is
/// small and pids wrap within minutes, so a pid alone never identifies a process across crispd restarts.
/// </summary>
public readonly record struct ProcessIdentity(int Pid, ulong StartTime)
{
    /// <summary>The identity of a live process, or null when it does not exist.</summary>
    public static ProcessIdentity? Of(int pid) =>
        ProcessStat.TryRead(pid) is { } stat ? new ProcessIdentity(pid, stat.StartTime) : null;

    /// <summary>True only when the pid exists and is still the same process (not a zombie).</summary>
    public bool IsAlive() => ProcessStat.IsStillRunning(Pid, StartTime);

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

    internal static ulong? ReadStartTime(int pid) => ProcessStat.TryRead(pid)?.StartTime;
}
