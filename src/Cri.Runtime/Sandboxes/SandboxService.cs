using Crisp.Interop;
using Crisp.Cri.V1;
using Crisp.Runtime.Api;
using Crisp.Runtime.Cgroups;
using Crisp.Runtime.Containers;
using Crisp.Runtime.Events;
using Crisp.Runtime.Handlers;
using Crisp.Runtime.Host;
using Crisp.Runtime.Lsm;
using Crisp.Runtime.Namespaces;
using Crisp.Runtime.Network;
using Crisp.Runtime.Oci;
using Crisp.Runtime.Rootfs;
using Crisp.Runtime.State;
using Crisp.Runtime.Stats;
using Microsoft.Extensions.Logging;

namespace Crisp.Runtime.Sandboxes;

/// <summary>
/// A pod sandbox's life: RunPodSandbox (cgroup, pinned namespaces, CNI attachment, /etc files, /dev/shm),
/// UpdatePodSandboxResources, StopPodSandbox, RemovePodSandbox, and the teardown they and recovery share.
/// </summary>
public sealed partial class SandboxService(
    RuntimeLayout layout,
    IStateStore store,
    KeyedLocks locks,
    RuntimeHandlerRegistry handlers,
    ICgroupManager cgroups,
    IPodNamespaces namespaces,
    IPodNetwork network,
    IRuntimeMounts mounts,
    ContainerTeardown containers,
    ContainerEventPublisher events,
    CpuRateTracker cpuRates,
    SelinuxLabels selinux,
    ILogger<SandboxService> logger)
{
    // Sandbox names are reserved under this lock so two concurrent runs cannot both win.
    private readonly SemaphoreSlim _nameLock = new(1, 1);

    /// <summary>
    /// Creates the pod. A host-network pod uses the node's network namespace; any other pod gets its own, attached
    /// to the node's CNI network. Any failure undoes everything this call did.
    /// </summary>
    public async Task<string> RunPodSandboxAsync(RunPodSandboxRequest request, CancellationToken cancellationToken)
    {
        var config = request.Config ?? throw RuntimeException.InvalidField("config", "must be set");
        SandboxValidator.Validate(config);
        // "" selects the default handler. Unknown: InvalidArgument; known but unable to run here: FailedPrecondition.
        var handlerName = (await handlers.GetReadyAsync(request.RuntimeHandler, cancellationToken)).Name;
        if (config.Linux?.SecurityContext?.NamespaceOptions?.Network != NamespaceMode.Node && network.Status is { Ready: false } notReady)
            throw new RuntimeException(RuntimeErrorKind.FailedPrecondition, $"pod network is not ready: {notReady.Message}");

        var id = ObjectIds.New();
        var record = new SandboxRecord
        {
            Id = id,
            Config = config,
            RuntimeHandler = handlerName,
            CreatedAtNanos = UnixNanos.Now(),
            Phase = SandboxPhase.Creating,
            Directory = Path.Combine(layout.SandboxesRoot, id),
            StateDirectory = Path.Combine(layout.SandboxesStateRoot, id),
        };
        record.CgroupParent = cgroups.PodCgroupParent(config.Linux?.CgroupParent ?? "", config.Metadata.Uid);

        await _nameLock.WaitAsync(cancellationToken);
        try
        {
            var holder = store.Sandboxes.FirstOrDefault(s => s.NameKey == record.NameKey);
            if (holder is not null)
                throw new RuntimeException(RuntimeErrorKind.AlreadyExists,
                    $"pod sandbox name \"{record.NameKey}\" is already reserved for sandbox {holder.Id}");
            // Under the name lock, so no other pod can take the same level before this record holds it.
            record.SelinuxLevel = selinux.PodLevel(config, store.Sandboxes.Select(s => s.SelinuxLevel).Where(l => l.Length > 0).ToHashSet());
            // Persisted before any effect: a crash from here on leaves a Creating record recovery cleans up.
            await store.SaveAsync(record, cancellationToken);
        }
        finally
        {
            _nameLock.Release();
        }

        using var _ = await locks.AcquireAsync(id, CancellationToken.None);
        try
        {
            await SetUpAsync(record, cancellationToken);
            record.Phase = SandboxPhase.Ready;
            await store.SaveAsync(record, CancellationToken.None);
            // A pod's sandbox is created and started in one call; the kubelet's Evented PLEG expects both events.
            events.PublishSandbox(record, ContainerEventType.ContainerCreatedEvent);
            events.PublishSandbox(record, ContainerEventType.ContainerStartedEvent);
            Log.SandboxReady(logger, id, config.Metadata.Namespace, config.Metadata.Name, handlerName);
            return id;
        }
        catch (Exception ex)
        {
            Log.SandboxSetupFailed(logger, ex, id, config.Metadata.Name);
            await DiscardHalfCreatedAsync(record, CancellationToken.None);
            locks.Forget(id);
            if (ex is RuntimeException) throw;
            throw new RuntimeException(RuntimeErrorKind.Internal,
                $"setting up pod sandbox {config.Metadata.Namespace}/{config.Metadata.Name}: {ex.Message}", ex);
        }
    }

    private async Task SetUpAsync(SandboxRecord record, CancellationToken cancellationToken)
    {
        var config = record.Config;
        var options = record.NamespaceOptions;
        OwnedDirectory.Ensure(record.Directory);
        OwnedDirectory.Ensure(record.StateDirectory);

        // linux.resources is not applied: the kubelet sizes the pod cgroup itself (with the pod overhead, which
        // these values leave out) and each container gets its own limits from its spec.
        await cgroups.EnsurePodCgroupAsync(record.CgroupParent, cancellationToken);

        var hostname = string.IsNullOrEmpty(config.Hostname) && record.HostNetwork ? Environment.MachineName : config.Hostname;
        var pinned = await namespaces.CreateAsync(
            record.Id,
            newNetwork: !record.HostNetwork,
            newIpc: options.Ipc != NamespaceMode.Node,
            // Kubernetes gives host-network pods the node's UTS namespace (and hostname) too.
            newUts: !record.HostNetwork,
            sharedPid: options.Pid == NamespaceMode.Pod,
            hostname: record.HostNetwork ? null : hostname,
            userNamespace: record.UserNamespaceMappings,
            cancellationToken);
        record.NetworkNamespacePath = pinned.NetworkPath;
        record.IpcNamespacePath = pinned.IpcPath;
        record.UtsNamespacePath = pinned.UtsPath;
        record.PidNamespacePath = pinned.PidPath;
        record.UserNamespacePath = pinned.UserPath;
        await store.SaveAsync(record, CancellationToken.None);

        if (pinned.NetworkPath is not null)
        {
            var ips = await network.AttachAsync(record.Id, config, pinned.NetworkPath, cancellationToken);
            record.PodIp = ips.FirstOrDefault() ?? "";
            record.AdditionalIps = ips.Skip(1).ToList();
            await store.SaveAsync(record, CancellationToken.None);
        }

        await SandboxFilesWriter.WriteAsync(record.Directory, hostname, record.HostNetwork, config.DnsConfig, cancellationToken);
        record.HostnamePath = Path.Combine(record.Directory, "hostname");
        record.HostsPath = Path.Combine(record.Directory, "hosts");
        record.ResolvConfPath = Path.Combine(record.Directory, "resolv.conf");

        if (options.Ipc == NamespaceMode.Node)
        {
            record.ShmPath = "/dev/shm";
        }
        else
        {
            record.ShmPath = Path.Combine(record.StateDirectory, "shm");
            record.ShmMounted = true;
            await store.SaveAsync(record, CancellationToken.None);
            mounts.MountShm(record.ShmPath, selinux.PodMountLabel(record.SelinuxLevel, config));
        }
    }

    /// <summary>
    /// Records the pod's new overhead and resources (reported in PodSandboxStatus verbose info). Nothing is written
    /// to the pod cgroup: the kubelet resizes it itself, as with containerd and CRI-O.
    /// </summary>
    public async Task UpdatePodSandboxResourcesAsync(UpdatePodSandboxResourcesRequest request, CancellationToken cancellationToken)
    {
        var sandbox = store.RequireSandbox(request.PodSandboxId);
        var resources = request.Resources ?? throw RuntimeException.InvalidField("resources", "must be set");
        ContainerConfigValidator.ValidateResources(resources, "resources");
        ContainerConfigValidator.ValidateResources(request.Overhead, "overhead");
        using (await locks.AcquireAsync(sandbox.Id, cancellationToken))
        {
            if (sandbox.Phase != SandboxPhase.Ready)
                throw new RuntimeException(RuntimeErrorKind.FailedPrecondition, $"pod sandbox {sandbox.Id} is not ready");
            sandbox.Config.Linux ??= new LinuxPodSandboxConfig();
            sandbox.Config.Linux.Resources = resources.Clone();
            if (request.Overhead is not null) sandbox.Config.Linux.Overhead = request.Overhead.Clone();
            await store.SaveAsync(sandbox, CancellationToken.None);
        }
    }

    /// <summary>Stops every container of the pod and releases its network, shm and namespaces; idempotent, unknown id is success.</summary>
    public async Task StopPodSandboxAsync(StopPodSandboxRequest request, CancellationToken cancellationToken)
    {
        var sandbox = store.LookupSandbox(request.PodSandboxId);
        if (sandbox is null)
        {
            // The kubelet retries StopPodSandbox until it succeeds; an id we do not know is already stopped.
            Log.UnknownSandboxIgnored(logger, request.PodSandboxId, "stop");
            return;
        }
        await containers.StopAllAsync(store.ContainersOf(sandbox.Id).ToList(), cancellationToken);

        using var _ = await locks.AcquireAsync(sandbox.Id, cancellationToken);
        if (sandbox.Phase == SandboxPhase.Ready)
        {
            sandbox.Phase = SandboxPhase.NotReady;
            await store.SaveAsync(sandbox, CancellationToken.None);
            events.PublishSandbox(sandbox, ContainerEventType.ContainerStoppedEvent);
        }
        // DEL runs first, while the network namespace is still pinned; if it fails the namespace stays, so the
        // kubelet's retry of StopPodSandbox can finish the job.
        await network.DetachAsync(sandbox.Id, CancellationToken.None);
        await ReleaseNamespacesAndShmAsync(sandbox, CancellationToken.None);
    }

    /// <summary>Removes every container, mount, cgroup, namespace file and directory of the pod; idempotent.</summary>
    public async Task RemovePodSandboxAsync(RemovePodSandboxRequest request, CancellationToken cancellationToken)
    {
        var sandbox = store.LookupSandbox(request.PodSandboxId);
        if (sandbox is null)
        {
            Log.UnknownSandboxIgnored(logger, request.PodSandboxId, "remove");
            return;
        }
        await RemoveAsync(sandbox, cancellationToken);
    }

    public async Task RemoveAsync(SandboxRecord sandbox, CancellationToken cancellationToken)
    {
        await containers.RemoveAllAsync(store.ContainersOf(sandbox.Id).ToList(), cancellationToken);

        using var _ = await locks.AcquireAsync(sandbox.Id, cancellationToken);
        if (store.FindSandbox(sandbox.Id) is null) return;
        sandbox.Phase = SandboxPhase.Removing;
        await store.SaveAsync(sandbox, CancellationToken.None);
        await TearDownAsync(sandbox, strict: true, CancellationToken.None);
        await store.DeleteSandboxAsync(sandbox.Id, CancellationToken.None);
        events.PublishSandbox(sandbox, ContainerEventType.ContainerDeletedEvent);
        locks.Forget(sandbox.Id);
        cpuRates.Forget(sandbox.Id);
        Log.SandboxRemoved(logger, sandbox.Id);
    }

    /// <summary>
    /// Undoes a RunPodSandbox that failed or was interrupted: every step is attempted, an attachment whose DEL
    /// failed is kept for a later DEL, and the record goes.
    /// </summary>
    public async Task DiscardHalfCreatedAsync(SandboxRecord sandbox, CancellationToken cancellationToken)
    {
        await TearDownAsync(sandbox, strict: false, cancellationToken);
        await network.AbandonAsync(sandbox.Id, cancellationToken);
        await store.DeleteSandboxAsync(sandbox.Id, cancellationToken);
    }

    private async Task ReleaseNamespacesAndShmAsync(SandboxRecord sandbox, CancellationToken cancellationToken)
    {
        if (sandbox.ShmMounted)
        {
            mounts.UnmountShm(sandbox.ShmPath);
            sandbox.ShmMounted = false;
            await store.SaveAsync(sandbox, cancellationToken);
        }
        await namespaces.RemoveAsync(sandbox.Id, cancellationToken);
    }

    /// <summary>
    /// Undoes everything RunPodSandbox may have done; each step tolerates its effect being absent. With
    /// <paramref name="strict"/> a failed step is reported (the record stays, so a retry finishes the job).
    /// </summary>
    private async Task TearDownAsync(SandboxRecord sandbox, bool strict, CancellationToken cancellationToken)
    {
        var steps = new CleanupSteps(sandbox.Id, logger);
        // Separate steps: a DEL that fails must not keep the namespaces pinned here (the pod is going away either
        // way); the attachment stays on disk and its DEL is retried, with the namespace then passed as absent.
        await steps.RunAsync("detach from the CNI network", () => network.DetachAsync(sandbox.Id, cancellationToken));
        await steps.RunAsync("release namespaces and shm", () => ReleaseNamespacesAndShmAsync(sandbox, cancellationToken));
        await steps.RunAsync("remove pod cgroup", () => string.IsNullOrEmpty(sandbox.CgroupParent) || !sandbox.OwnsPodCgroup
            ? Task.CompletedTask
            : cgroups.RemoveAsync(sandbox.CgroupParent, cancellationToken));
        await steps.RemoveDirectoriesAsync(mounts, sandbox.Directory, sandbox.StateDirectory);
        if (strict) steps.ThrowIfFailed($"removing pod sandbox {sandbox.Id}");
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Pod sandbox {SandboxId} ({Namespace}/{Name}) ready on handler {Handler}")]
        public static partial void SandboxReady(ILogger logger, string sandboxId, string @namespace, string name, string handler);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Setting up pod sandbox {SandboxId} ({Name}) failed; rolling back")]
        public static partial void SandboxSetupFailed(ILogger logger, Exception exception, string sandboxId, string name);

        [LoggerMessage(Level = LogLevel.Information, Message = "Pod sandbox {SandboxId} removed")]
        public static partial void SandboxRemoved(ILogger logger, string sandboxId);

        [LoggerMessage(Level = LogLevel.Debug, Message = "Pod sandbox {SandboxId} is unknown; {Operation} is a no-op")]
        public static partial void UnknownSandboxIgnored(ILogger logger, string sandboxId, string operation);
    }
}
