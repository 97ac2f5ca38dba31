using Crisp.Interop.Procfs;
using Crisp.Runtime.Handlers;
using Xunit;

namespace Crisp.Runtime.Tests.Handlers;

public sealed class ExecProcessTreeTests
{
    [Fact]
    public void Descendants_follow_the_tree_and_skip_zombies()
    {
        ProcessStat P(int pid, int ppid, char state = 'S') => new(pid, state, ppid, pid, 1);
        var all = new[] { P(10, 1), P(11, 10), P(12, 11), P(13, 11, 'Z'), P(14, 1), P(15, 14) };
        Assert.Equal([11, 12], ExecProcessTree.Descendants(all, 10).Select(p => p.Pid).Order());
        Assert.Empty(ExecProcessTree.Descendants(all, 12));
    }
}
