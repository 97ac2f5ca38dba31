using Crisp.Cri.V1;
using Crisp.Runtime.Containers;
using Crisp.Runtime.Sandboxes;
using Crisp.Runtime.State;

namespace Crisp.Runtime.Events;

/// <summary>
/// GetContainerEvents: builds each event from the records as they are now and hands it to the broadcaster. Evented
/// PLEG replaces its cached pod status with the one an event carries, so every event carries the pod's status and all
/// its containers' statuses; the pod's containers come from the store's per-pod index (never a scan of the node), and
/// a pod-wide operation builds that view once for all the events it publishes.
/// </summary>
public sealed class ContainerEventPublisher(IStateStore store, ContainerEventBroadcaster broadcaster)
{
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
        if (broadcaster.SubscriberCount == 0 || records.Count == 0) return;
        var sandboxId = records.First().SandboxId;
        var view = PodView(sandboxId, type == ContainerEventType.ContainerDeletedEvent ? records : []);
        foreach (var record in records) broadcaster.Publish(Event(record.Id, type, view));
    }

    /// <summary>
    /// The sandbox's own lifecycle, keyed by its id as containerd reports it (CREATED and STARTED when RunPodSandbox
    /// finished, STOPPED on StopPodSandbox, DELETED on RemovePodSandbox); the kubelet drops its cached pod on the
    /// sandbox's DELETED event.
    /// </summary>
    public void PublishSandbox(SandboxRecord sandbox, ContainerEventType type)
    {
        if (broadcaster.SubscriberCount == 0) return;
        broadcaster.Publish(Event(sandbox.Id, type, (SandboxStatusBuilder.Status(sandbox), ContainerStatuses(sandbox.Id, []))));
    }

    private (PodSandboxStatus? Sandbox, IReadOnlyList<ContainerStatus> Containers) PodView(string sandboxId, IReadOnlyCollection<ContainerRecord> deleted)
    {
        var sandbox = store.FindSandbox(sandboxId);
        return (sandbox is null ? null : SandboxStatusBuilder.Status(sandbox), ContainerStatuses(sandboxId, deleted));
    }

    /// <summary>The pod's visible containers; a deleted container is no longer visible but its last status belongs in its own event.</summary>
    private List<ContainerStatus> ContainerStatuses(string sandboxId, IReadOnlyCollection<ContainerRecord> deleted)
    {
        var records = store.ContainersOf(sandboxId).Where(ContainerFilters.IsVisible).ToList();
        if (deleted.Count > 0)
        {
            var listed = records.Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
            records.AddRange(deleted.Where(d => !listed.Contains(d.Id)));
        }
        return records.OrderBy(c => c.CreatedAtNanos).Select(ContainerStatusBuilder.Status).ToList();
    }

    private static ContainerEventResponse Event(string id, ContainerEventType type, (PodSandboxStatus? Sandbox, IReadOnlyList<ContainerStatus> Containers) view)
    {
        var response = new ContainerEventResponse
        {
            ContainerId = id,
            ContainerEventType = type,
            CreatedAt = UnixNanos.Now(),
            PodSandboxStatus = view.Sandbox,
        };
        // The status messages are shared between the events of one view: protobuf messages have no parent, and
        // nothing modifies an event once it is published.
        response.ContainersStatuses.Add(view.Containers);
        return response;
    }
}
