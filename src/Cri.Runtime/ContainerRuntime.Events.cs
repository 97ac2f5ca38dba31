using Crisp.Cri.V1;
using Crisp.Runtime.Containers;
using Crisp.Runtime.Events;
using Crisp.Runtime.Sandboxes;
using Crisp.Runtime.State;

namespace Crisp.Runtime;

public sealed partial class ContainerRuntime
{
    /// <summary>Subscribes to CREATED/STARTED/STOPPED/DELETED events; dispose the subscription to stop.</summary>
    public ContainerEventBroadcaster.Subscription SubscribeToEvents() => _events.Subscribe();

    /// <summary>
    /// Publishes an event carrying the pod's status and its containers' statuses as they are now, which is what
    /// Evented PLEG uses instead of relisting. Callers hold the container's lock so events of one container
    /// are published in the order they happened.
    /// </summary>
    private void PublishEvent(ContainerRecord record, ContainerEventType type)
    {
        if (_events.SubscriberCount == 0) return;
        var response = new ContainerEventResponse
        {
            ContainerId = record.Id,
            ContainerEventType = type,
            CreatedAt = UnixNanos.Now(),
        };
        var sandbox = _store.FindSandbox(record.SandboxId);
        if (sandbox is not null) response.PodSandboxStatus = SandboxStatusBuilder.Status(sandbox);
        var statuses = _store.ContainersOf(record.SandboxId).Where(ContainerFilters.IsVisible).ToList();
        // The deleted container is no longer visible but its last status still belongs in its own event.
        if (type == ContainerEventType.ContainerDeletedEvent && statuses.All(c => c.Id != record.Id)) statuses.Add(record);
        response.ContainersStatuses.Add(statuses.OrderBy(c => c.CreatedAtNanos).Select(ContainerStatusBuilder.Status));
        _events.Publish(response);
    }
}
