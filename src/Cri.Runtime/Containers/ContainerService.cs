using Crisp.Cri.V1;
using Crisp.Runtime.Api;
using Crisp.Runtime.Events;
using Crisp.Runtime.Handlers;
using Crisp.Runtime.Oci;
using Crisp.Runtime.State;
using Microsoft.Extensions.Logging;

namespace Crisp.Runtime.Containers;

/// <summary>What a created container goes through: StartContainer, UpdateContainerResources, ReopenContainerLog.</summary>
public sealed partial class ContainerService(
    IStateStore store,
    KeyedLocks locks,
    RuntimeHandlerRegistry handlers,
    HostFeatures host,
    ContainerExits exits,
    ContainerEventPublisher events,
    ILogger<ContainerService> logger)
{
    public async Task StartContainerAsync(StartContainerRequest request, CancellationToken cancellationToken)
    {
        var record = store.RequireContainer(request.ContainerId);
        using (await locks.AcquireAsync(record.Id, cancellationToken))
        {
            if (record.Phase != ContainerPhase.Created)
                throw new RuntimeException(RuntimeErrorKind.FailedPrecondition,
                    $"container {record.Id} is {record.Phase}, only a Created container can be started");
            var sandbox = store.FindSandbox(record.SandboxId);
            if (sandbox is null || sandbox.Phase != SandboxPhase.Ready)
                throw new RuntimeException(RuntimeErrorKind.FailedPrecondition,
                    $"pod sandbox {record.SandboxId} of container {record.Id} is not ready");
            try
            {
                await handlers.Get(record.RuntimeHandler).StartAsync(record.Id, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                record.Phase = ContainerPhase.Exited;
                record.FinishedAtNanos = UnixNanos.Now();
                record.ExitCode = 128;
                record.Reason = "StartError";
                record.Message = ex.Message;
                await store.SaveAsync(record, CancellationToken.None);
                exits.SignalExited(record.Id);
                // The container went Created → Exited: Evented PLEG learns it from this event, not from a relist.
                events.Publish(record, ContainerEventType.ContainerStoppedEvent);
                throw ex is RuntimeException ? ex : new RuntimeException(RuntimeErrorKind.Internal,
                    $"starting container {record.Id}: {ex.Message}", ex);
            }
            record.Phase = ContainerPhase.Running;
            record.StartedAtNanos = UnixNanos.Now();
            await store.SaveAsync(record, CancellationToken.None);
            // Published under the container's lock so STARTED always precedes the STOPPED of a quick exit.
            events.Publish(record, ContainerEventType.ContainerStartedEvent);
        }
        Log.ContainerStarted(logger, record.Id);
    }

    public async Task ReopenContainerLogAsync(ReopenContainerLogRequest request, CancellationToken cancellationToken)
    {
        var record = store.RequireContainer(request.ContainerId);
        if (record.Phase != ContainerPhase.Running)
            throw new RuntimeException(RuntimeErrorKind.FailedPrecondition,
                $"container {record.Id} is {record.Phase}; only a running container's log can be reopened");
        // Returns once conmon has created the new file, so the kubelet can rely on it right after the call.
        if (string.IsNullOrEmpty(record.LogPath))
            await handlers.Get(record.RuntimeHandler).ReopenLogAsync(record.Id, cancellationToken);
        else
            await handlers.Get(record.RuntimeHandler).ReopenLogAsync(record.Id, record.LogPath, cancellationToken);
    }

    /// <summary>Applies new resources to the live container cgroup (runc update) and records them.</summary>
    public async Task UpdateContainerResourcesAsync(UpdateContainerResourcesRequest request, CancellationToken cancellationToken)
    {
        var record = store.RequireContainer(request.ContainerId);
        var resources = request.Linux ?? throw RuntimeException.InvalidField("linux", "must be set (only Linux resources are supported)");
        ContainerConfigValidator.ValidateResources(resources, "linux");
        using (await locks.AcquireAsync(record.Id, cancellationToken))
        {
            if (record.Phase is ContainerPhase.Running or ContainerPhase.Created)
            {
                var json = System.Text.Json.JsonSerializer.Serialize(
                    SpecResources.Build(resources, host, deviceRules: []), OciJsonContext.Default.OciResources);
                await handlers.Get(record.RuntimeHandler).UpdateResourcesAsync(record.Id, json, cancellationToken);
            }
            else if (record.Phase != ContainerPhase.Exited)
            {
                throw new RuntimeException(RuntimeErrorKind.FailedPrecondition, $"container {record.Id} is {record.Phase}");
            }
            record.Resources = resources.Clone();
            await store.SaveAsync(record, CancellationToken.None);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Container {ContainerId} started")]
        public static partial void ContainerStarted(ILogger logger, string containerId);
    }
}
