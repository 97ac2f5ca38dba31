using Crisp.Interop.Procfs;
using Xunit;

namespace Crisp.Interop.Tests.Procfs;

public sealed class ProcessStatTests
{
    [Theory]
    [InlineData("42 (we) ird (name) S 7 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 123456 2322432 316 0\n", "we) ird (name")]
    [InlineData("42 (a b c) S 7 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 123456 2322432 316 0", "a b c")]
    [InlineData("42 ()) S 7 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 123456 2322432 316 0", ")")]
    [InlineData("42 (runc:[2:INIT]) S 7 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 123456 2322432 316 0", "runc:[2:INIT]")]
    [InlineData("42 (x) 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20) S 7 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 123456 2322432 316 0", "x) 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20")]
    public void Fields_are_read_after_the_last_parenthesis_of_the_command_name(string text, string command) =>
        Assert.Equal(new ProcessStat(42, 'S', 7, 42, 123456UL, command), ProcessStat.Parse(42, text));

    [Fact]
    public void Cpu_times_are_user_plus_system_of_the_process_and_of_its_reaped_children()
    {
        var stat = ProcessStat.Parse(42, "42 (pull) S 7 42 42 0 -1 4194560 1 0 0 0 250 50 7 3 20 0 1 0 123456 2322432 316 0")!.Value;

        Assert.Equal(300UL, stat.CpuTicks);
        Assert.Equal(TimeSpan.FromSeconds(3), stat.CpuTime);
        Assert.Equal(10UL, stat.ReapedChildrenCpuTicks);
        Assert.Equal(TimeSpan.FromSeconds(0.1), stat.ReapedChildrenCpuTime);
    }

    [Fact]
    public void Zombies_and_dead_processes_are_not_running()
    {
        Assert.True(ProcessStat.Parse(6, "6 (sleep) Z 0 6 6 0 -1 4228364 636 0 0 0 0 0 0 0 20 0 1 0 439729 0 0")!.Value.IsZombie);
        Assert.True(ProcessStat.Parse(6, "6 (sleep) X 0 6 6 0 -1 4228364 636 0 0 0 0 0 0 0 20 0 1 0 439729 0 0")!.Value.IsZombie);
        Assert.False(ProcessStat.Parse(6, "6 (sleep) S 0 6 6 0 -1 4228364 636 0 0 0 0 0 0 0 20 0 1 0 439729 0 0")!.Value.IsZombie);
    }

    [Theory]
    [InlineData("")]
    [InlineData("1 (truncated) S 0 1")]
    [InlineData("1 (no close paren S 0 1 1 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 5 0 0")]
    [InlineData("1 (x) S 0 1 1 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 -5 0 0")]
    [InlineData("1 (x) SS 0 1 1 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 5 0 0")]
    [InlineData("1 (x) S zero 1 1 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 5 0 0")]
    [InlineData("1 (x) S 0 1 1 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0")]
    public void Short_or_malformed_text_is_no_stat(string text) =>
        Assert.Null(ProcessStat.Parse(1, text));

    [Fact]
    public void Reads_this_process_and_sees_it_in_the_full_listing()
    {
        var self = Environment.ProcessId;
        var mine = ProcessStat.TryRead(self);

        Assert.NotNull(mine);
        Assert.Equal(self, mine.Value.Pid);
        Assert.True(ProcessStat.StillSame(mine.Value));
        Assert.True(ProcessStat.IsStillRunning(self, mine.Value.StartTime));
        Assert.False(ProcessStat.StillSame(mine.Value with { StartTime = mine.Value.StartTime + 1 }));
        Assert.Contains(ProcessStat.ReadAll(), p => p.Pid == self && p.StartTime == mine.Value.StartTime);
    }

    [Fact]
    public void A_pid_that_does_not_exist_has_no_stat()
    {
        Assert.Null(ProcessStat.TryRead(int.MaxValue));
        Assert.False(ProcessStat.IsStillRunning(int.MaxValue, 1));
    }
}
