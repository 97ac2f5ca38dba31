using Xunit;
using Crisp.Runtime.Stats;

namespace Crisp.Runtime.Tests.Stats;

public sealed class CpuRateTrackerTests
{
    [Fact]
    public void First_sample_has_no_rate()
    {
        var tracker = new CpuRateTracker();
        Assert.Null(tracker.Record("c", 1_000_000_000, 5));
    }

    [Fact]
    public void Half_a_core_over_two_seconds_is_500_million_nano_cores()
    {
        var tracker = new CpuRateTracker();
        tracker.Record("c", 10_000_000_000, 1_000_000_000);
        // 1 core-second used in 2 wall seconds.
        Assert.Equal(500_000_000UL, tracker.Record("c", 12_000_000_000, 2_000_000_000));
        // Two full cores for one second.
        Assert.Equal(2_000_000_000UL, tracker.Record("c", 13_000_000_000, 4_000_000_000));
    }

    [Fact]
    public void Keys_are_independent_and_forgettable()
    {
        var tracker = new CpuRateTracker();
        tracker.Record("a", 0, 0);
        Assert.Null(tracker.Record("b", 1_000_000_000, 100));
        Assert.Equal(1_000_000_000UL, tracker.Record("a", 1_000_000_000, 1_000_000_000));
        tracker.Forget("a");
        Assert.Null(tracker.Record("a", 2_000_000_000, 1_500_000_000));
    }

    [Fact]
    public void Counter_reset_or_no_elapsed_time_gives_no_rate()
    {
        Assert.Null(CpuRateTracker.Rate(100, 500, 100, 600));
        Assert.Null(CpuRateTracker.Rate(100, 500, 200, 400));
        Assert.Equal(0UL, CpuRateTracker.Rate(100, 500, 200, 500));
    }
}
