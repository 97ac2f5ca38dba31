using Crisp.Interop.Procfs;
using Crisp.Runtime.Handlers;
using Crisp.Runtime.Streaming;
using Xunit;

namespace Crisp.Runtime.Tests.Streaming;

/// <summary>
/// A streaming exec cancelled after its process already exited unseen: only what can be that process's children
/// (its group, started after the runtime) is killed, never a group named after a pid handed out again.
/// </summary>
public sealed class OrphanedExecGroupTests
{
    private const int ExecPid = 4242;
    private const ulong RuntimeStart = 1000;

    [Fact]
    public void Children_left_in_the_vanished_process_group_are_chosen()
    {
        List<ProcessStat> all =
        [
            new(4250, 'S', 1, ExecPid, 1010),
            new(4251, 'S', 4250, ExecPid, 1011),
            new(4252, 'Z', 1, ExecPid, 1012),
            new(5000, 'S', 1, 5000, 1020),
        ];
        var chosen = RuntimeExecSession.OrphanedGroupMembers(all, ExecPid, RuntimeStart);
        Assert.Equal([4250, 4251], chosen.Select(p => p.Pid));
    }

    [Fact]
    public void A_live_process_holding_the_pid_means_it_was_reused_and_nothing_is_killed()
    {
        List<ProcessStat> all =
        [
            new(ExecPid, 'S', 1, ExecPid, 5000),
            new(4250, 'S', ExecPid, ExecPid, 5001),
        ];
        Assert.Empty(RuntimeExecSession.OrphanedGroupMembers(all, ExecPid, RuntimeStart));
    }

    [Fact]
    public void Members_older_than_the_runtime_are_not_its_children()
    {
        List<ProcessStat> all = [new(4250, 'S', 1, ExecPid, RuntimeStart - 1)];
        Assert.Empty(RuntimeExecSession.OrphanedGroupMembers(all, ExecPid, RuntimeStart));
        Assert.Empty(RuntimeExecSession.OrphanedGroupMembers(all, 1, RuntimeStart));
    }
}
