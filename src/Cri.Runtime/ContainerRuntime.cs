using Crisp.Cri.V1;
using Crisp.Runtime.Containers;
using Crisp.Runtime.Events;
using Crisp.Runtime.Network;
using Crisp.Runtime.Sandboxes;
using Crisp.Runtime.Stats;
using Crisp.Runtime.Streaming;

namespace Crisp.Runtime;

/// <summary>
/// The runtime library as the daemon's RuntimeService handlers and streaming server see it: one entry per RPC,
/// each handed to the service of its aggregate (Sandboxes/, Containers/, Streaming/, Stats/, Events/, Network/).
/// Nothing is decided here; docs/architecture.md maps each RPC to its service and files.
/// </summary>
public sealed class ContainerRuntime(
    SandboxService sandboxes,
    SandboxQueries sandboxQueries,
    ContainerCreator containerCreator,
    ContainerService containers,
    ContainerTeardown containerTeardown,
    ContainerQueries containerQueries,
    ExecService exec,
    StatsService stats,
    ContainerEventPublisher events,
    IPodNetwork network)
{
    // Pod sandboxes
    public Task<string> RunPodSandboxAsync(RunPodSandboxRequest request, CancellationToken cancellationToken) =>
        sandboxes.RunPodSandboxAsync(request, cancellationToken);

    public Task StopPodSandboxAsync(StopPodSandboxRequest request, CancellationToken cancellationToken) =>
        sandboxes.StopPodSandboxAsync(request, cancellationToken);

    public Task RemovePodSandboxAsync(RemovePodSandboxRequest request, CancellationToken cancellationToken) =>
        sandboxes.RemovePodSandboxAsync(request, cancellationToken);

    public Task UpdatePodSandboxResourcesAsync(UpdatePodSandboxResourcesRequest request, CancellationToken cancellationToken) =>
        sandboxes.UpdatePodSandboxResourcesAsync(request, cancellationToken);

    public PodSandboxStatusResponse PodSandboxStatus(PodSandboxStatusRequest request) => sandboxQueries.PodSandboxStatus(request);

    public IReadOnlyList<PodSandbox> ListPodSandboxes(PodSandboxFilter? filter) => sandboxQueries.ListPodSandboxes(filter);

    // Containers
    public Task<string> CreateContainerAsync(CreateContainerRequest request, CancellationToken cancellationToken) =>
        containerCreator.CreateContainerAsync(request, cancellationToken);

    public Task StartContainerAsync(StartContainerRequest request, CancellationToken cancellationToken) =>
        containers.StartContainerAsync(request, cancellationToken);

    public Task StopContainerAsync(StopContainerRequest request, CancellationToken cancellationToken) =>
        containerTeardown.StopContainerAsync(request, cancellationToken);

    public Task RemoveContainerAsync(RemoveContainerRequest request, CancellationToken cancellationToken) =>
        containerTeardown.RemoveContainerAsync(request, cancellationToken);

    public Task UpdateContainerResourcesAsync(UpdateContainerResourcesRequest request, CancellationToken cancellationToken) =>
        containers.UpdateContainerResourcesAsync(request, cancellationToken);

    public Task ReopenContainerLogAsync(ReopenContainerLogRequest request, CancellationToken cancellationToken) =>
        containers.ReopenContainerLogAsync(request, cancellationToken);

    public ContainerStatusResponse ContainerStatus(ContainerStatusRequest request) => containerQueries.ContainerStatus(request);

    public IReadOnlyList<Container> ListContainers(ContainerFilter? filter) => containerQueries.ListContainers(filter);

    // Exec and streaming
    public Task<ExecSyncResponse> ExecSyncAsync(ExecSyncRequest request, CancellationToken cancellationToken) =>
        exec.ExecSyncAsync(request, cancellationToken);

    public void ValidateExec(ExecRequest request) => exec.ValidateExec(request);

    public void ValidateAttach(AttachRequest request) => exec.ValidateAttach(request);

    public void ValidatePortForward(PortForwardRequest request) => exec.ValidatePortForward(request);

    public Task<int> ExecAsync(string containerId, IReadOnlyList<string> cmd, bool tty, StreamingIo io, CancellationToken ct) =>
        exec.ExecAsync(containerId, cmd, tty, io, ct);

    public Task AttachAsync(string containerId, bool tty, StreamingIo io, CancellationToken ct) =>
        exec.AttachAsync(containerId, tty, io, ct);

    public Task PortForwardAsync(string podSandboxId, int port, Stream connection, CancellationToken ct) =>
        exec.PortForwardAsync(podSandboxId, port, connection, ct);

    // Stats and metrics
    public Task<Cri.V1.ContainerStats> ContainerStatsAsync(ContainerStatsRequest request, CancellationToken cancellationToken) =>
        stats.ContainerStatsAsync(request, cancellationToken);

    public Task<IReadOnlyList<Cri.V1.ContainerStats>> ListContainerStatsAsync(ContainerStatsFilter? filter, CancellationToken cancellationToken) =>
        stats.ListContainerStatsAsync(filter, cancellationToken);

    public Task<PodSandboxStats> PodSandboxStatsAsync(PodSandboxStatsRequest request, CancellationToken cancellationToken) =>
        stats.PodSandboxStatsAsync(request, cancellationToken);

    public Task<IReadOnlyList<PodSandboxStats>> ListPodSandboxStatsAsync(PodSandboxStatsFilter? filter, CancellationToken cancellationToken) =>
        stats.ListPodSandboxStatsAsync(filter, cancellationToken);

    public IReadOnlyList<MetricDescriptor> ListMetricDescriptors() => stats.ListMetricDescriptors();

    public Task<IReadOnlyList<PodSandboxMetrics>> ListPodSandboxMetricsAsync(CancellationToken cancellationToken) =>
        stats.ListPodSandboxMetricsAsync(cancellationToken);

    // Events
    public ContainerEventBroadcaster.Subscription SubscribeToEvents() => events.Subscribe();

    // Network (Status, UpdateRuntimeConfig)
    /// <summary>The CNI config new pods would use, or why there is none (Status' NetworkReady).</summary>
    public CniConfigState NetworkStatus => network.Status;

    /// <summary>UpdateRuntimeConfig: the node's pod CIDR(s), given to plugins that ask for ipRanges.</summary>
    public Task UpdatePodCidrAsync(string podCidr, CancellationToken cancellationToken) =>
        network.UpdatePodCidrAsync(podCidr, cancellationToken);
}
