using Crisp.Runtime.Stats;
using Xunit;

namespace Crisp.Runtime.Tests.Stats;

public sealed class PodNetworkUsageTests
{
    private const string ProcNetDev = """
        Inter-|   Receive                                                |  Transmit
         face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
            lo:    1234      10    0    0    0     0          0         0     1234      10    0    0    0     0       0          0
          eth0:   98765     120    3    0    0     0          0         0    43210      80    2    0    0     0       0          0
          net1:      11       1    0    0    0     0          0         0       22       2    0    0    0     0       0          0
        """;

    [Fact]
    public void Every_interface_but_loopback_is_reported_with_eth0_as_default()
    {
        var usage = PodNetworkUsage.Parse(ProcNetDev, "eth0", 42);

        Assert.Equal(42, usage.Timestamp);
        Assert.Equal(["eth0", "net1"], usage.Interfaces.Select(i => i.Name));
        Assert.Equal("eth0", usage.DefaultInterface.Name);
        Assert.Equal(98765UL, usage.DefaultInterface.RxBytes.Value);
        Assert.Equal(3UL, usage.DefaultInterface.RxErrors.Value);
        Assert.Equal(43210UL, usage.DefaultInterface.TxBytes.Value);
        Assert.Equal(2UL, usage.DefaultInterface.TxErrors.Value);
    }

    [Fact]
    public void Truncated_or_garbled_lines_are_skipped()
    {
        var usage = PodNetworkUsage.Parse("eth0: 1 2 3\nnet1: a b c d e f g h i j k l m n o p\n", "eth0", 1);
        Assert.Empty(usage.Interfaces);
        Assert.Null(usage.DefaultInterface);
    }

    [Fact]
    public async Task A_namespace_that_is_gone_is_FailedPrecondition_naming_the_pod()
    {
        var missing = Path.Combine(Path.GetTempPath(), "crisp-no-such-netns-" + Guid.NewGuid().ToString("N"));
        var e = await Assert.ThrowsAsync<Crisp.Runtime.Api.RuntimeException>(() => PodNetworkUsage.ReadAsync("pod-x", missing, "eth0"));
        Assert.Equal(Crisp.Runtime.Api.RuntimeErrorKind.FailedPrecondition, e.Kind);
        Assert.Contains("pod-x", e.Message, StringComparison.Ordinal);
        Assert.Contains(missing, e.Message, StringComparison.Ordinal);
    }
}
