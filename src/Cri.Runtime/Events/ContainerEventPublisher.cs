using Crisp.Cri.V1;
using Crisp.Runtime.Containers;
using Crisp.Runtime.Sandboxes;
using Crisp.Runtime.State;

namespace Crisp.Runtime.Events;

/// <summary>GetContainerEvents: builds each event from the records as they are now and hands it to the broadcaster.</summary>
public sealed class ContainerEventPublisher(IStateStore store, ContainerEventBroadcaster broadcaster)
{
    /// <summary>Subscribes to CREATED/STARTED/STOPPED/DELETED events; dispose the subscription to stop.</summary>
    public ContainerEventBroadcaster.Subscription Subscribe() => broadcaster.Subscribe();

    /// <summary>
    /// Publishes an event carrying the pod's status and its containers' statuses as they are now, which is what
    /// Evented PLEG uses instead of relisting. Callers hold the container's lock so events of one container
    /// are published in the order they happened.
    /// </summary>
    public void Publish(ContainerRecord record, ContainerEventType type)
    {
        if (broadcaster.SubscriberCount == 0) return;
        var response = new ContainerEventResponse
        {
            ContainerId = record.Id,
            ContainerEventType = type,
            CreatedAt = UnixNanos.Now(),
        };
        var sandbox = store.FindSandbox(record.SandboxId);
        if (sandbox is not null) response.PodSandboxStatus = SandboxStatusBuilder.Status(sandbox);
        var statuses = store.ContainersOf(record.SandboxId).Where(ContainerFilters.IsVisible).ToList();
        // The deleted container is no longer visible but its last status still belongs in its own event.
        if (type == ContainerEventType.ContainerDeletedEvent && statuses.All(c => c.Id != record.Id)) statuses.Add(record);
        response.ContainersStatuses.Add(statuses.OrderBy(c => c.CreatedAtNanos).Select(ContainerStatusBuilder.Status));
        broadcaster.Publish(response);
    }
}
