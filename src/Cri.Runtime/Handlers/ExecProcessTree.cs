using Crisp.Interop;
using Crisp.Interop.Procfs;
using Crisp.Runtime.Host;

namespace Crisp.Runtime.Handlers;

/// <summary>
/// Kills what a timed-out ExecSync still runs: everything below its own conmon — `runc exec` if it is still
/// starting, the exec'd process (conmon is its subreaper once runc has exited) and that process's children.
/// Ancestry from a conmon verified by its command line and start time, plus the start time re-read right before each signal,
/// keeps a recycled pid from ever being signalled.
/// </summary>
internal static class ExecProcessTree
{
    private const int SigKill = 9;

    /// <summary>Signals every live descendant of the exec's conmon (not conmon itself); returns how many it hit.</summary>
    public static int KillDescendants(ProcessIdentity conmon)
    {
        if (!conmon.IsAlive()) return 0;
        var conmonPid = conmon.Pid;
        var tree = Descendants(ProcessStat.ReadAll(), conmonPid);
        var hit = 0;
        // The exec'd process leads its own session and group (runc setsid()s it): one kill of the group takes
        // every member at once, including children forked after the /proc walk. Only a group led by a live
        // member of this tree is signalled, and never conmon's own.
        foreach (var p in tree)
        {
            if (p.ProcessGroup == p.Pid && p.Pid > 1 && p.Pid != conmonPid && ProcessStat.StillSame(p) && Libc.Kill(-p.Pid, SigKill)) hit++;
        }
        // Children that left the group (setsid, setpgid) are still descendants in the walk.
        foreach (var p in tree)
        {
            if (ProcessStat.StillSame(p) && Libc.Kill(p.Pid, SigKill)) hit++;
        }
        return hit;
    }

    internal static List<ProcessStat> Descendants(IReadOnlyList<ProcessStat> all, int rootPid)
    {
        var children = new Dictionary<int, List<ProcessStat>>();
        foreach (var p in all)
        {
            if (p.IsZombie) continue;
            if (!children.TryGetValue(p.ParentPid, out var list)) children[p.ParentPid] = list = [];
            list.Add(p);
        }
        var result = new List<ProcessStat>();
        var queue = new Queue<int>();
        queue.Enqueue(rootPid);
        while (queue.Count > 0 && result.Count < all.Count)
        {
            if (!children.TryGetValue(queue.Dequeue(), out var kids)) continue;
            foreach (var k in kids)
            {
                result.Add(k);
                queue.Enqueue(k.Pid);
            }
        }
        return result;
    }
}
