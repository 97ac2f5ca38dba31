using Crisp.Runtime.Handlers;
using Xunit;

namespace Crisp.Runtime.Tests.Handlers;

public sealed class ProcessStatTests
{
    [Fact]
    public void Parses_fields_after_a_comm_with_spaces_and_parentheses()
    {
        var stat = ProcessStat.Parse(42, "42 (we) ird (name) S 7 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 123456 2322432 316 0");
        Assert.NotNull(stat);
        Assert.Equal(new ProcessStat(42, 'S', 7, 42, 123456UL), stat);
        Assert.False(stat.Value.IsZombie);
        Assert.True(ProcessStat.Parse(6, "6 (sleep) Z 0 6 6 0 -1 4228364 636 0 0 0 0 0 0 0 20 0 1 0 439729 0 0")!.Value.IsZombie);
        Assert.Null(ProcessStat.Parse(1, "1 (truncated) S 0 1"));
    }

    [Fact]
    public void Descendants_follow_the_tree_and_skip_zombies()
    {
        ProcessStat P(int pid, int ppid, char state = 'S') => new(pid, state, ppid, pid, 1);
        var all = new[] { P(10, 1), P(11, 10), P(12, 11), P(13, 11, 'Z'), P(14, 1), P(15, 14) };
        Assert.Equal([11, 12], ExecProcessTree.Descendants(all, 10).Select(p => p.Pid).Order());
        Assert.Empty(ExecProcessTree.Descendants(all, 12));
    }

    [Fact]
    public void Reads_this_process_and_sees_it_in_the_full_listing()
    {
        var self = Environment.ProcessId;
        var mine = ProcessStat.TryRead(self);
        Assert.NotNull(mine);
        Assert.True(ProcessStat.StillSame(mine.Value));
        Assert.False(ProcessStat.StillSame(mine.Value with { StartTime = mine.Value.StartTime + 1 }));
        Assert.Contains(ProcessStat.ReadAll(), p => p.Pid == self && p.StartTime == mine.Value.StartTime);
    }
}
