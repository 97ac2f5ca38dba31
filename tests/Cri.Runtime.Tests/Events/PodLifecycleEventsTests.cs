using Crisp.Cri.V1;
using Crisp.Runtime.Tests.Fakes;
using Xunit;

namespace Crisp.Runtime.Tests.Events;

/// <summary>GetContainerEvents as Evented PLEG reads it: the sandbox's own lifecycle, and a pod's teardown as one event per container.</summary>
public sealed class PodLifecycleEventsTests : IDisposable
{
    private readonly RuntimeHarness _runtime = new();

    public void Dispose() => _runtime.Dispose();

    private static List<ContainerEventResponse> Drain(Crisp.Runtime.Events.ContainerEventBroadcaster.Subscription subscription)
    {
        var events = new List<ContainerEventResponse>();
        while (subscription.Reader.TryRead(out var e)) events.Add(e);
        return events;
    }

    [Fact]
    public async Task The_sandbox_reports_created_started_stopped_and_deleted_keyed_by_its_own_id()
    {
        using var subscription = _runtime.Events.Subscribe();

        var podId = await _runtime.RunPodAsync();
        await _runtime.Sandboxes.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId }, CancellationToken.None);
        await _runtime.Sandboxes.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId }, CancellationToken.None);

        var events = Drain(subscription).Where(e => e.ContainerId == podId).ToList();
        Assert.Equal(
            [ContainerEventType.ContainerCreatedEvent, ContainerEventType.ContainerStartedEvent, ContainerEventType.ContainerStoppedEvent, ContainerEventType.ContainerDeletedEvent],
            events.Select(e => e.ContainerEventType));
        Assert.All(events, e => Assert.Equal(podId, e.PodSandboxStatus.Id));
        Assert.Equal(PodSandboxState.SandboxReady, events[1].PodSandboxStatus.State);
        Assert.Equal(PodSandboxState.SandboxNotready, events[2].PodSandboxStatus.State);
    }

    [Fact]
    public async Task Removing_a_pod_writes_its_containers_in_batches_and_reports_each_deleted_with_the_whole_pod()
    {
        var podId = await _runtime.RunPodAsync();
        var ids = new List<string>();
        for (var i = 0; i < 5; i++) ids.Add(await _runtime.CreateContainerAsync(podId, $"app-{i}"));
        using var subscription = _runtime.Events.Subscribe();
        var batchesBefore = _runtime.Store.BatchWrites;

        await _runtime.Sandboxes.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId }, CancellationToken.None);

        // Removing for all, then the delete of all: two writes, whatever the pod's size.
        Assert.Equal(2, _runtime.Store.BatchWrites - batchesBefore);
        var deleted = Drain(subscription).Where(e => e.ContainerEventType == ContainerEventType.ContainerDeletedEvent && e.ContainerId != podId).ToList();
        Assert.Equal(ids.Order(), deleted.Select(e => e.ContainerId).Order());
        Assert.All(deleted, e => Assert.Equal(ids.Order(), e.ContainersStatuses.Select(s => s.Id).Order()));
        _runtime.AssertNothingLeft();
    }
}
