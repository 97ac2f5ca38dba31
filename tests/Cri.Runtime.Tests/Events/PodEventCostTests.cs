using Crisp.Cri.V1;
using Crisp.Runtime.Containers;
using Crisp.Runtime.Events;
using Crisp.Runtime.Tests.Fakes;
using Xunit;

namespace Crisp.Runtime.Tests.Events;

/// <summary>
/// An event carries every container's status of its pod, but builds only the statuses that changed: a status object
/// carried again unchanged is the same instance as in the pod's previous event, so the new instances in an event
/// count the statuses it built.
/// </summary>
public sealed class PodEventCostTests : IDisposable
{
    private const int PodSize = 40;
    private readonly RuntimeHarness _runtime = new();

    public void Dispose() => _runtime.Dispose();

    private static List<ContainerEventResponse> Drain(ContainerEventBroadcaster.Subscription subscription)
    {
        var events = new List<ContainerEventResponse>();
        while (subscription.Reader.TryRead(out var e)) events.Add(e);
        return events;
    }

    private static int NewInstances(ContainerEventResponse previous, ContainerEventResponse next)
    {
        var before = previous.ContainersStatuses.ToHashSet(ReferenceEqualityComparer.Instance);
        return next.ContainersStatuses.Count(s => !before.Contains(s));
    }

    private async Task<(string PodId, List<string> Ids)> PodWithCreatedContainersAsync()
    {
        var podId = await _runtime.RunPodAsync();
        var ids = new List<string>();
        for (var i = 0; i < PodSize; i++) ids.Add(await _runtime.CreateContainerAsync(podId, $"app-{i}"));
        return (podId, ids);
    }

    private void AssertCarriesCurrentStatuses(string podId, ContainerEventResponse e) =>
        Assert.Equal(
            _runtime.Store.ContainersOf(podId).Where(ContainerFilters.IsVisible).OrderBy(c => c.CreatedAtNanos).Select(ContainerStatusBuilder.Status),
            e.ContainersStatuses);

    [Fact]
    public async Task Each_start_in_a_pod_of_40_builds_one_status_and_carries_all_40_as_they_are()
    {
        var (podId, ids) = await PodWithCreatedContainersAsync();
        using var subscription = _runtime.Events.Subscribe();
        await _runtime.Sandboxes.RunPodSandboxAsync(RuntimeHarness.PodRequest("other"), CancellationToken.None);
        Drain(subscription);

        ContainerEventResponse? previous = null;
        foreach (var id in ids)
        {
            await _runtime.Containers.StartContainerAsync(new StartContainerRequest { ContainerId = id }, CancellationToken.None);
            var started = Assert.Single(Drain(subscription));
            Assert.Equal(id, started.ContainerId);
            Assert.Equal(PodSize, started.ContainersStatuses.Count);
            AssertCarriesCurrentStatuses(podId, started);
            // The first event of a subscription builds the pod once; after that, only the started container.
            if (previous is not null) Assert.Equal(1, NewInstances(previous, started));
            previous = started;
        }
    }

    [Fact]
    public async Task Stopping_a_pod_of_40_builds_about_one_status_per_container_over_all_its_events()
    {
        var (podId, ids) = await PodWithCreatedContainersAsync();
        using var subscription = _runtime.Events.Subscribe();
        // Primes the pod's statuses, as the kubelet's subscription would have long before a stop.
        await _runtime.Containers.UpdateContainerResourcesAsync(
            new UpdateContainerResourcesRequest { ContainerId = ids[0], Linux = new LinuxContainerResources { CpuShares = 512 } }, CancellationToken.None);
        var primed = _runtime.Store.FindSandbox(podId)!;
        _runtime.Events.PublishSandbox(primed, ContainerEventType.ContainerStartedEvent);
        var previous = Assert.Single(Drain(subscription));

        await _runtime.Sandboxes.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId }, CancellationToken.None);

        var events = Drain(subscription);
        var stopped = events.Where(e => e.ContainerEventType == ContainerEventType.ContainerStoppedEvent && e.ContainerId != podId).ToList();
        Assert.Equal(ids.Order(), stopped.Select(e => e.ContainerId).Order());
        // The stop kills every container first, so several exits can land between two events and one event may build
        // all of them; what must hold is the amortised cost: about one build per container over the whole stop, where
        // rebuilding the pod per event would make PodSize × PodSize.
        var built = 0;
        foreach (var e in events)
        {
            Assert.Equal(PodSize, e.ContainersStatuses.Count);
            built += NewInstances(previous, e);
            previous = e;
        }
        Assert.True(built <= 2 * PodSize, $"stopping {PodSize} containers built {built} statuses over {events.Count} events");
        AssertCarriesCurrentStatuses(podId, events[^1]);
        Assert.All(events[^1].ContainersStatuses, s => Assert.Equal(ContainerState.ContainerExited, s.State));
    }

    [Fact]
    public async Task A_change_that_publishes_no_event_still_reaches_the_next_event_of_the_pod()
    {
        var (podId, ids) = await PodWithCreatedContainersAsync();
        using var subscription = _runtime.Events.Subscribe();
        await _runtime.Containers.StartContainerAsync(new StartContainerRequest { ContainerId = ids[0] }, CancellationToken.None);
        Drain(subscription);

        await _runtime.Containers.UpdateContainerResourcesAsync(
            new UpdateContainerResourcesRequest { ContainerId = ids[1], Linux = new LinuxContainerResources { CpuShares = 512, MemoryLimitInBytes = 64 << 20 } },
            CancellationToken.None);
        await _runtime.Containers.StartContainerAsync(new StartContainerRequest { ContainerId = ids[2] }, CancellationToken.None);

        var started = Assert.Single(Drain(subscription));
        var updated = Assert.Single(started.ContainersStatuses, s => s.Id == ids[1]);
        Assert.Equal(512, updated.Resources.Linux.CpuShares);
        Assert.Equal(64 << 20, updated.Resources.Linux.MemoryLimitInBytes);
        AssertCarriesCurrentStatuses(podId, started);
    }

    [Fact]
    public async Task Removing_a_container_drops_it_from_later_events_and_its_own_deleted_event_still_carries_it()
    {
        var (podId, ids) = await PodWithCreatedContainersAsync();
        using var subscription = _runtime.Events.Subscribe();
        await _runtime.Containers.StartContainerAsync(new StartContainerRequest { ContainerId = ids[0] }, CancellationToken.None);
        Drain(subscription);

        await _runtime.Teardown.RemoveContainerAsync(new RemoveContainerRequest { ContainerId = ids[5] }, CancellationToken.None);
        await _runtime.Containers.StartContainerAsync(new StartContainerRequest { ContainerId = ids[6] }, CancellationToken.None);

        var events = Drain(subscription);
        var deleted = Assert.Single(events, e => e.ContainerEventType == ContainerEventType.ContainerDeletedEvent);
        Assert.Contains(deleted.ContainersStatuses, s => s.Id == ids[5]);
        var started = Assert.Single(events, e => e.ContainerEventType == ContainerEventType.ContainerStartedEvent);
        Assert.Equal(PodSize - 1, started.ContainersStatuses.Count);
        AssertCarriesCurrentStatuses(podId, started);
    }
}
