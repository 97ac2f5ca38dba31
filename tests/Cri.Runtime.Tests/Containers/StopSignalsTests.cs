using Xunit;
using Crisp.Cri.V1;
using Crisp.Runtime.Api;
using Crisp.Runtime.Containers;

namespace Crisp.Runtime.Tests.Containers;

public sealed class StopSignalsTests
{
    [Fact]
    public void Config_signal_wins_over_the_image()
    {
        Assert.Equal(2, StopSignals.Choose(Signal.Sigint, "SIGQUIT"));
        Assert.Equal(9, StopSignals.Choose(Signal.Sigkill, null));
        Assert.Equal(10, StopSignals.Choose(Signal.Sigusr1, null));
    }

    [Fact]
    public void Image_signal_is_used_when_config_has_the_runtime_default()
    {
        Assert.Equal(3, StopSignals.Choose(Signal.RuntimeDefault, "SIGQUIT"));
        Assert.Equal(3, StopSignals.Choose(Signal.RuntimeDefault, "QUIT"));
        Assert.Equal(28, StopSignals.Choose(Signal.RuntimeDefault, "28"));
        Assert.Equal(37, StopSignals.Choose(Signal.RuntimeDefault, "SIGRTMIN+3"));
        Assert.Equal(62, StopSignals.Choose(Signal.RuntimeDefault, "SIGRTMAX-2"));
    }

    [Fact]
    public void Sigterm_when_neither_says()
    {
        Assert.Equal(15, StopSignals.Choose(Signal.RuntimeDefault, null));
        Assert.Equal(15, StopSignals.Choose(Signal.RuntimeDefault, "  "));
    }

    [Fact]
    public void An_unknown_image_signal_is_refused_with_its_name()
    {
        var ex = Assert.Throws<RuntimeException>(() => StopSignals.Choose(Signal.RuntimeDefault, "SIGBOGUS"));
        Assert.Equal(RuntimeErrorKind.InvalidArgument, ex.Kind);
        Assert.Contains("SIGBOGUS", ex.Message);
        Assert.Null(StopSignals.Parse("0"));
        Assert.Null(StopSignals.Parse("65"));
        Assert.Null(StopSignals.Parse("SIGRTMIN+40"));
    }

    [Fact]
    public void Every_cri_signal_maps_to_a_linux_signal_number()
    {
        foreach (var signal in Enum.GetValues<Signal>().Where(s => s != Signal.RuntimeDefault))
            Assert.InRange(StopSignals.FromCri(signal), 1, 64);
        Assert.Equal(35, StopSignals.FromCri(Signal.Sigrtminplus1));
        Assert.Equal(50, StopSignals.FromCri(Signal.Sigrtmaxminus14));
        Assert.Equal(15, StopSignals.FromCri(Signal.Sigterm));
    }
}
