using Crisp.Runtime.State;
using Crisp.Runtime.Tests.Fakes;
using Xunit;

namespace Crisp.Runtime.Tests.Containers;

public sealed class ContainerExitsTests : IDisposable
{
    private readonly RuntimeHarness _runtime = new();

    public void Dispose() => _runtime.Dispose();

    [Fact]
    public async Task AnExitIsRecordedOnceAndLaterReportsAreIgnored()
    {
        var sandbox = await _runtime.RunPodAsync();
        var id = await _runtime.StartedContainerAsync(sandbox);

        await _runtime.Exits.MarkExitedAsync(id, 0, DateTimeOffset.UtcNow, oomKilled: false);
        await _runtime.Exits.MarkExitedAsync(id, 137, DateTimeOffset.UtcNow, oomKilled: true);

        var record = _runtime.Store.FindContainer(id)!;
        Assert.Equal((ContainerPhase.Exited, 0, "Completed"), (record.Phase, record.ExitCode, record.Reason));
    }

    [Fact]
    public async Task TheExitFileInTheBundleIsPickedUpWhenTheExitDirMissedIt()
    {
        var sandbox = await _runtime.RunPodAsync();
        var id = await _runtime.StartedContainerAsync(sandbox);
        await File.WriteAllTextAsync(Path.Combine(_runtime.Layout.ContainerBundle(id), "exit"), "2");
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        var poll = _runtime.Exits.PollExitsAsync(stop.Token);
        var record = _runtime.Store.FindContainer(id)!;
        while (record.Phase == ContainerPhase.Running && !stop.IsCancellationRequested)
            await Task.Delay(50, CancellationToken.None);
        await stop.CancelAsync();
        await poll;

        Assert.Equal((ContainerPhase.Exited, 2, "Error"), (record.Phase, record.ExitCode, record.Reason));
    }
}
