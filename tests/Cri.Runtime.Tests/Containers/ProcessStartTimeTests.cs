using Xunit;
using Crisp.Runtime.Containers;

namespace Crisp.Runtime.Tests.Containers;

public sealed class ProcessStartTimeTests
{
    [Fact]
    public void Parses_field_22_even_when_comm_has_spaces_and_parentheses()
    {
        var stat = "1234 (my (odd) proc) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000000 100";
        Assert.Equal(987654UL, ProcessStartTime.Parse(stat));
    }

    [Fact]
    public void Reads_this_process_and_matches_it()
    {
        var pid = Environment.ProcessId;
        var start = ProcessStartTime.Read(pid);
        Assert.NotNull(start);
        Assert.True(ProcessStartTime.IsSameProcess(pid, start!.Value));
        Assert.False(ProcessStartTime.IsSameProcess(pid, start.Value + 1));
    }
}
