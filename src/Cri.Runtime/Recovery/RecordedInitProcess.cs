using Crisp.Interop.Procfs;
using Crisp.Runtime.State;

namespace Crisp.Runtime.Recovery;

/// <summary>What a container's recorded init process (pid and start time, from conmon's pid file at create) shows in /proc.</summary>
public enum RecordedInit
{
    /// <summary>Nothing recorded to check, or a process /proc cannot place: only the runtime can tell.</summary>
    Unknown,
    /// <summary>runc's init, still waiting on its exec fifo for `runc start`.</summary>
    WaitingToStart,
    /// <summary>The same process, now running the container's own program.</summary>
    Running,
    /// <summary>Exited, reaped or replaced by an unrelated process with the same pid.</summary>
    Gone,
}

/// <summary>
/// Recovery's fast path: one read of /proc/&lt;pid&gt;/stat per container instead of a `runc state` process, so a
/// restart with many containers answers quickly. Anything it cannot vouch for is <see cref="RecordedInit.Unknown"/>
/// and goes to the runtime.
/// </summary>
public static class RecordedInitProcess
{
    // runc names its init process so until `runc start` makes it exec the container's program.
    private const string RuncInitCommand = "runc:[2:INIT]";

    public static RecordedInit Check(ContainerRecord record)
    {
        if (record.Pid <= 0 || record.PidStartTime == 0) return RecordedInit.Unknown;
        if (ProcessStat.TryRead(record.Pid) is not { } stat || stat.StartTime != record.PidStartTime || stat.IsZombie) return RecordedInit.Gone;
        return stat.Command == RuncInitCommand ? RecordedInit.WaitingToStart : RecordedInit.Running;
    }
}
