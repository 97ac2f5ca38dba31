using Xunit;
using Crisp.Runtime.Api;
using Crisp.Runtime.Handlers;
using Crisp.Runtime.Tests.Fakes;

namespace Crisp.Runtime.Tests.Handlers;

public sealed class RuntimeHandlerRegistryTests
{
    [Fact]
    public void Unknown_default_is_refused_at_construction()
    {
        Assert.Throws<ArgumentException>(() => new RuntimeHandlerRegistry([], "runc"));
    }

    [Fact]
    public async Task A_handler_still_being_probed_is_answered_with_its_verdict_not_its_unprobed_state()
    {
        var probe = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var runc = new FakeRuntimeHandler { Availability = HandlerAvailability.NotReady("handler runc has not been probed yet"), Probed = probe.Task };
        var registry = new RuntimeHandlerRegistry([runc], "runc");

        var ready = registry.GetReadyAsync("", CancellationToken.None);
        var probed = registry.WhenProbedAsync(CancellationToken.None);
        await Task.Delay(50);
        Assert.False(ready.IsCompleted);
        Assert.False(probed.IsCompleted);

        runc.Availability = new HandlerAvailability(true, null, true, false);
        probe.SetResult();
        Assert.Same(runc, await ready);
        await probed;
    }

    [Fact]
    public async Task A_handler_probed_not_ready_is_refused_with_the_probe_reason()
    {
        var probe = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var crun = new FakeRuntimeHandler("crun") { Availability = HandlerAvailability.NotReady("handler crun has not been probed yet"), Probed = probe.Task };
        var registry = new RuntimeHandlerRegistry([crun], "crun");

        var ready = registry.GetReadyAsync("crun", CancellationToken.None);
        crun.Availability = HandlerAvailability.NotReady("cgroups in hybrid mode not supported");
        probe.SetResult();

        var refused = await Assert.ThrowsAsync<RuntimeException>(() => ready);
        Assert.Equal(RuntimeErrorKind.FailedPrecondition, refused.Kind);
        Assert.Contains("hybrid", refused.Message);
    }
}
