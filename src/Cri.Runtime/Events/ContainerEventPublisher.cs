using Crisp.Cri.V1;
using Crisp.Runtime.Containers;
using Crisp.Runtime.Sandboxes;
using Crisp.Runtime.State;

namespace Crisp.Runtime.Events;

/// <summary>
/// GetContainerEvents: builds each event from the records as they are now and hands it to the broadcaster. Evented
/// PLEG replaces its cached pod status with the one an event carries, so every event carries the pod's status and all
/// its containers' statuses; the pod's containers come from the store's per-pod index (never a scan of the node), and
/// only the statuses that changed since the pod's last event are built again (<see cref="PodStatusCache"/>).
/// </summary>
public sealed class ContainerEventPublisher(IStateStore store, ContainerEventBroadcaster broadcaster)
{
    private readonly PodStatusCache _statuses = new();

    /// <summary>Subscribes to CREATED/STARTED/STOPPED/DELETED events; dispose the subscription to stop.</summary>
    public ContainerEventBroadcaster.Subscription Subscribe() => broadcaster.Subscribe();

    /// <summary>
    /// Publishes one container's event. Callers hold the container's lock so events of one container are published
    /// in the order they happened.
    /// </summary>
    public void Publish(ContainerRecord record, ContainerEventType type) => PublishAll([record], type);

    /// <summary>One event per container of one pod (a pod's stop or removal), all from one view of the pod.</summary>
    public void PublishAll(IReadOnlyCollection<ContainerRecord> records, ContainerEventType type)
    {
        if (records.Count == 0 || !HasSubscribers()) return;
        var sandboxId = records.First().SandboxId;
        var pod = _statuses.For(sandboxId);
        // Views and publication under one lock: a pod's events leave in the order their views were taken.
        lock (pod)
        {
            var view = PodView(sandboxId, pod, type == ContainerEventType.ContainerDeletedEvent ? records : []);
            foreach (var record in records) broadcaster.Publish(Event(record.Id, type, view));
        }
    }

    /// <summary>
    /// The sandbox's own lifecycle, keyed by its id as containerd reports it (CREATED and STARTED when RunPodSandbox
    /// finished, STOPPED on StopPodSandbox, DELETED on RemovePodSandbox); the kubelet drops its cached pod on the
    /// sandbox's DELETED event.
    /// </summary>
    public void PublishSandbox(SandboxRecord sandbox, ContainerEventType type)
    {
        if (HasSubscribers())
        {
            var pod = _statuses.For(sandbox.Id);
            lock (pod)
                broadcaster.Publish(Event(sandbox.Id, type, (SandboxStatusBuilder.Status(sandbox), VisibleStatuses(sandbox.Id, pod, []))));
        }
        if (type == ContainerEventType.ContainerDeletedEvent) _statuses.Forget(sandbox.Id);
    }

    private bool HasSubscribers()
    {
        if (broadcaster.SubscriberCount > 0) return true;
        _statuses.Clear();
        return false;
    }

    private (PodSandboxStatus? Sandbox, IReadOnlyList<ContainerStatus> Containers) PodView(
        string sandboxId, PodStatusCache.PodStatuses pod, IReadOnlyCollection<ContainerRecord> deleted)
    {
        var sandbox = store.FindSandbox(sandboxId);
        return (sandbox is null ? null : SandboxStatusBuilder.Status(sandbox), VisibleStatuses(sandboxId, pod, deleted));
    }

    /// <summary>The pod's visible containers; a deleted container is no longer visible but its last status belongs in its own event.</summary>
    private ContainerStatus[] VisibleStatuses(string sandboxId, PodStatusCache.PodStatuses pod, IReadOnlyCollection<ContainerRecord> deleted) =>
        pod.Refresh(store.ContainersOf(sandboxId).Where(ContainerFilters.IsVisible).Concat(deleted));

    private static ContainerEventResponse Event(string id, ContainerEventType type, (PodSandboxStatus? Sandbox, IReadOnlyList<ContainerStatus> Containers) view)
    {
        var response = new ContainerEventResponse
        {
            ContainerId = id,
            ContainerEventType = type,
            CreatedAt = UnixNanos.Now(),
            PodSandboxStatus = view.Sandbox,
        };
        // The status messages are shared between events (and kept for the next ones): protobuf messages have no
        // parent, and nothing modifies an event once it is published.
        response.ContainersStatuses.Add(view.Containers);
        return response;
    }
}
