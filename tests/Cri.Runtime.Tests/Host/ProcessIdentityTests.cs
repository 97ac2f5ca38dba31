using Crisp.Runtime.Host;
using Xunit;

namespace Crisp.Runtime.Tests.Host;

/// <summary>A pid read from a file is only signalled while it still names the process that was recorded.</summary>
public sealed class ProcessIdentityTests
{
    private const int ProbeSignal = 0;

    [Fact]
    public void A_recycled_pid_is_not_signalled()
    {
        var self = ProcessIdentity.Of(Environment.ProcessId);
        Assert.NotNull(self);
        // Same pid, another start time: what a pid file holds once its process died and the pid was handed out again.
        var recycled = self.Value with { StartTime = self.Value.StartTime + 1 };
        Assert.False(recycled.Signal(ProbeSignal));
        Assert.True(self.Value.Signal(ProbeSignal));
    }

    [Fact]
    public void A_gone_pid_is_not_signalled()
    {
        var gone = new ProcessIdentity(int.MaxValue, 1);
        Assert.False(gone.Signal(ProbeSignal));
    }
}
