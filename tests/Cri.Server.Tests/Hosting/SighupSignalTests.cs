using Crisp.Server.Hosting;
using Xunit;

namespace Crisp.Server.Tests.Hosting;

public sealed class SighupSignalTests
{
    [Fact]
    public void A_signal_before_attach_is_reported_once_to_the_receiver_that_attaches()
    {
        var signal = new SighupSignal();
        signal.Deliver();
        signal.Deliver();
        var received = 0;

        Assert.True(signal.Attach(() => received++));
        Assert.Equal(0, received);
        Assert.False(signal.Attach(() => received++));
    }

    [Fact]
    public void Signals_after_attach_reach_the_receiver_and_none_is_pending()
    {
        var signal = new SighupSignal();
        var received = 0;
        Assert.False(signal.Attach(() => received++));

        signal.Deliver();
        signal.Deliver();

        Assert.Equal(2, received);
    }

    [Fact]
    public void After_detach_signals_are_dropped()
    {
        var signal = new SighupSignal();
        var received = 0;
        signal.Attach(() => received++);

        signal.Detach();
        signal.Deliver();

        Assert.Equal(0, received);
    }
}
