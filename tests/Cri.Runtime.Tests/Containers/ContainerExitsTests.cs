using Crisp.Cri.V1;
using RuntimeStatus = Crisp.Runtime.Handlers.RuntimeStatus;
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

    [Fact]
    public async Task ARecordedExitDeletesTheRuntimeStateSoTheRemovalRunsNoRuntimeProcess()
    {
        var sandbox = await _runtime.RunPodAsync();
        var id = await _runtime.StartedContainerAsync(sandbox);

        await _runtime.Teardown.StopContainerAsync(new StopContainerRequest { ContainerId = id, Timeout = 5 }, CancellationToken.None);

        var record = _runtime.Store.FindContainer(id)!;
        Assert.Equal(ContainerPhase.Exited, record.Phase);
        Assert.True(record.RuntimeStateDeleted);
        Assert.Equal([(id, false)], _runtime.Handler.Deletes);
        Assert.Empty(_runtime.Handler.Known);

        await _runtime.Teardown.RemoveContainerAsync(new RemoveContainerRequest { ContainerId = id }, CancellationToken.None);
        Assert.Empty(_runtime.Store.Containers);
        Assert.Single(_runtime.Handler.Deletes);
    }

    [Fact]
    public async Task StateTheRuntimeKeepsAtTheExitIsForceDeletedByTheRemoval()
    {
        var sandbox = await _runtime.RunPodAsync();
        var id = await _runtime.StartedContainerAsync(sandbox);

        // The runtime still reports it running: a delete without --force is refused and nothing is lost.
        await _runtime.Exits.MarkExitedAsync(id, 1, DateTimeOffset.UtcNow, oomKilled: false);
        var record = _runtime.Store.FindContainer(id)!;
        Assert.Equal(ContainerPhase.Exited, record.Phase);
        Assert.False(record.RuntimeStateDeleted);
        Assert.Equal(RuntimeStatus.Running, _runtime.Handler.StatusOf(id));

        await _runtime.Teardown.RemoveContainerAsync(new RemoveContainerRequest { ContainerId = id }, CancellationToken.None);
        Assert.Equal([(id, false), (id, true)], _runtime.Handler.Deletes);
        Assert.Empty(_runtime.Handler.Known);
        Assert.Empty(_runtime.Store.Containers);
    }

    [Fact]
    public async Task APodOfCreatedContainersIsRemovedWithOneRuntimeDeleteEach()
    {
        var sandbox = await _runtime.RunPodAsync();
        var ids = new List<string>();
        for (var i = 0; i < 20; i++) ids.Add(await _runtime.CreateContainerAsync(sandbox, $"app-{i}"));

        await _runtime.Sandboxes.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = sandbox }, CancellationToken.None);
        await _runtime.Sandboxes.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = sandbox }, CancellationToken.None);

        Assert.Empty(_runtime.Store.Containers);
        Assert.Empty(_runtime.Handler.Known);
        Assert.Equal(ids.Order(StringComparer.Ordinal), _runtime.Handler.Deletes.Select(d => d.Id).Order(StringComparer.Ordinal));
    }
}
