using Crisp.Cri.V1;
using Crisp.Interop;
using Crisp.Runtime.Api;
using Crisp.Runtime.Sandboxes;
using Crisp.Runtime.State;
using Microsoft.Extensions.Logging;

namespace Crisp.Runtime;

public sealed partial class ContainerRuntime
{
    /// <summary>
    /// Creates the pod: cgroup, pinned namespaces, CNI attachment, /etc files and /dev/shm. A host-network pod
    /// uses the node's network namespace; any other pod gets its own, attached to the node's CNI network.
    /// </summary>
    public async Task<string> RunPodSandboxAsync(RunPodSandboxRequest request, CancellationToken cancellationToken)
    {
        var config = request.Config ?? throw RuntimeException.InvalidField("config", "must be set");
        SandboxValidator.Validate(config);
        var handlerName = string.IsNullOrEmpty(request.RuntimeHandler) ? _options.DefaultHandler : request.RuntimeHandler;
        // Unknown handler: InvalidArgument; known but unable to run here: FailedPrecondition with its reason.
        _handlers.GetReady(handlerName);
        if (config.Linux?.SecurityContext?.NamespaceOptions?.Network != NamespaceMode.Node && _network.Status is { Ready: false } network)
            throw new RuntimeException(RuntimeErrorKind.FailedPrecondition, $"pod network is not ready: {network.Message}");

        var id = ObjectIds.New();
        var record = new SandboxRecord
        {
            Id = id,
            Config = config,
            RuntimeHandler = handlerName,
            CreatedAtNanos = UnixNanos.Now(),
            Phase = SandboxPhase.Creating,
            Directory = Path.Combine(SandboxesRoot, id),
            StateDirectory = Path.Combine(SandboxesStateRoot, id),
        };
        record.CgroupParent = _cgroups.PodCgroupParent(config.Linux?.CgroupParent ?? "", config.Metadata.Uid);

        await _nameLock.WaitAsync(cancellationToken);
        try
        {
            var holder = _store.Sandboxes.FirstOrDefault(s => s.NameKey == record.NameKey);
            if (holder is not null)
                throw new RuntimeException(RuntimeErrorKind.AlreadyExists,
                    $"pod sandbox name \"{record.NameKey}\" is already reserved for sandbox {holder.Id}");
            // Persisted before any effect: a crash from here on leaves a Creating record recovery cleans up.
            await _store.SaveAsync(record, cancellationToken);
        }
        finally
        {
            _nameLock.Release();
        }

        using var _ = await _locks.AcquireAsync(id, CancellationToken.None);
        try
        {
            await SetUpSandboxAsync(record, cancellationToken);
            record.Phase = SandboxPhase.Ready;
            await _store.SaveAsync(record, CancellationToken.None);
            Log.SandboxReady(_logger, id, config.Metadata.Namespace, config.Metadata.Name, handlerName);
            return id;
        }
        catch (Exception ex)
        {
            Log.SandboxSetupFailed(_logger, ex, id, config.Metadata.Name);
            await TearDownSandboxAsync(record, strict: false, CancellationToken.None);
            await _network.AbandonAsync(id, CancellationToken.None);
            await _store.DeleteSandboxAsync(id, CancellationToken.None);
            _locks.Forget(id);
            if (ex is RuntimeException) throw;
            throw new RuntimeException(RuntimeErrorKind.Internal,
                $"setting up pod sandbox {config.Metadata.Namespace}/{config.Metadata.Name}: {ex.Message}", ex);
        }
    }

    private async Task SetUpSandboxAsync(SandboxRecord record, CancellationToken cancellationToken)
    {
        var config = record.Config;
        var options = record.NamespaceOptions;
        OwnedDirectory.Ensure(record.Directory);
        OwnedDirectory.Ensure(record.StateDirectory);

        await _cgroups.EnsurePodCgroupAsync(record.CgroupParent, PodResources(config), cancellationToken);

        var hostname = string.IsNullOrEmpty(config.Hostname) && record.HostNetwork ? Environment.MachineName : config.Hostname;
        var pinned = await _namespaces.CreateAsync(
            record.Id,
            newNetwork: !record.HostNetwork,
            newIpc: options.Ipc != NamespaceMode.Node,
            // Kubernetes gives host-network pods the node's UTS namespace (and hostname) too.
            newUts: !record.HostNetwork,
            sharedPid: options.Pid == NamespaceMode.Pod,
            hostname: record.HostNetwork ? null : hostname,
            cancellationToken);
        record.NetworkNamespacePath = pinned.NetworkPath;
        record.IpcNamespacePath = pinned.IpcPath;
        record.UtsNamespacePath = pinned.UtsPath;
        record.PidNamespacePath = pinned.PidPath;
        await _store.SaveAsync(record, CancellationToken.None);

        if (pinned.NetworkPath is not null)
        {
            var ips = await _network.AttachAsync(record.Id, config, pinned.NetworkPath, cancellationToken);
            record.PodIp = ips.FirstOrDefault() ?? "";
            record.AdditionalIps = ips.Skip(1).ToList();
            await _store.SaveAsync(record, CancellationToken.None);
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
            await _store.SaveAsync(record, CancellationToken.None);
            PodShm.Mount(record.ShmPath);
        }
    }

    private static LinuxContainerResources? PodResources(PodSandboxConfig config) => config.Linux?.Resources;

    /// <summary>Stops every container of the pod and releases its shm and namespaces; idempotent, unknown id is success.</summary>
    public async Task StopPodSandboxAsync(StopPodSandboxRequest request, CancellationToken cancellationToken)
    {
        var sandbox = FindSandbox(request.PodSandboxId);
        if (sandbox is null)
        {
            // The kubelet retries StopPodSandbox until it succeeds; an id we do not know is already stopped.
            Log.UnknownSandboxIgnored(_logger, request.PodSandboxId, "stop");
            return;
        }
        foreach (var container in _store.ContainersOf(sandbox.Id).ToList())
            await StopContainerCoreAsync(container, TimeSpan.Zero, cancellationToken);

        using var _ = await _locks.AcquireAsync(sandbox.Id, cancellationToken);
        if (sandbox.Phase == SandboxPhase.Ready)
        {
            sandbox.Phase = SandboxPhase.NotReady;
            await _store.SaveAsync(sandbox, CancellationToken.None);
        }
        await ReleaseSandboxResourcesAsync(sandbox, CancellationToken.None);
    }

    /// <summary>Removes every container, mount, cgroup, namespace file and directory of the pod; idempotent.</summary>
    public async Task RemovePodSandboxAsync(RemovePodSandboxRequest request, CancellationToken cancellationToken)
    {
        var sandbox = FindSandbox(request.PodSandboxId);
        if (sandbox is null)
        {
            Log.UnknownSandboxIgnored(_logger, request.PodSandboxId, "remove");
            return;
        }
        foreach (var container in _store.ContainersOf(sandbox.Id).ToList())
        {
            await StopContainerCoreAsync(container, TimeSpan.Zero, cancellationToken);
            await RemoveContainerCoreAsync(container, cancellationToken);
        }

        using var _ = await _locks.AcquireAsync(sandbox.Id, cancellationToken);
        if (_store.FindSandbox(sandbox.Id) is null) return;
        sandbox.Phase = SandboxPhase.Removing;
        await _store.SaveAsync(sandbox, CancellationToken.None);
        await TearDownSandboxAsync(sandbox, strict: true, CancellationToken.None);
        await _store.DeleteSandboxAsync(sandbox.Id, CancellationToken.None);
        _locks.Forget(sandbox.Id);
        _cpuRates.Forget(sandbox.Id);
        Log.SandboxRemoved(_logger, sandbox.Id);
    }

    /// <summary>
    /// What stop releases: the pod's CNI attachment, shm and namespaces (no container can use them any more).
    /// DEL runs first, while the network namespace is still pinned; if it fails the namespace stays, so the
    /// kubelet's retry of StopPodSandbox can finish the job.
    /// </summary>
    private async Task ReleaseSandboxResourcesAsync(SandboxRecord sandbox, CancellationToken cancellationToken)
    {
        await _network.DetachAsync(sandbox.Id, cancellationToken);
        await ReleaseNamespacesAndShmAsync(sandbox, cancellationToken);
    }

    private async Task ReleaseNamespacesAndShmAsync(SandboxRecord sandbox, CancellationToken cancellationToken)
    {
        if (sandbox.ShmMounted)
        {
            PodShm.Unmount(sandbox.ShmPath);
            sandbox.ShmMounted = false;
            await _store.SaveAsync(sandbox, cancellationToken);
        }
        await _namespaces.RemoveAsync(sandbox.Id, cancellationToken);
    }

    /// <summary>
    /// Undoes everything RunPodSandbox may have done; each step tolerates its effect being absent. With
    /// <paramref name="strict"/> a failed step is reported (the record stays, so a retry finishes the job).
    /// </summary>
    private async Task TearDownSandboxAsync(SandboxRecord sandbox, bool strict, CancellationToken cancellationToken)
    {
        var failures = new List<string>();
        async Task Step(string what, Func<Task> action)
        {
            try { await action(); }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.CleanupStepFailed(_logger, ex, sandbox.Id, what);
                failures.Add($"{what}: {ex.Message}");
            }
        }

        // Separate steps: a DEL that fails must not keep the namespaces pinned here (the pod is going away either
        // way); the attachment stays on disk and its DEL is retried, with the namespace then passed as absent.
        await Step("detach from the CNI network", () => _network.DetachAsync(sandbox.Id, cancellationToken));
        await Step("release namespaces and shm", () => ReleaseNamespacesAndShmAsync(sandbox, cancellationToken));
        await Step("remove pod cgroup", () => string.IsNullOrEmpty(sandbox.CgroupParent)
            ? Task.CompletedTask
            : _cgroups.RemoveAsync(sandbox.CgroupParent, cancellationToken));
        await Step("remove directories", () =>
        {
            // Never delete through a mount that is still there.
            var mounts = MountTable.MountsUnder(sandbox.Directory).Concat(MountTable.MountsUnder(sandbox.StateDirectory)).ToList();
            if (mounts.Count > 0) throw new IOException($"still mounted: {string.Join(", ", mounts)}");
            DeleteDirectory(sandbox.Directory);
            DeleteDirectory(sandbox.StateDirectory);
            return Task.CompletedTask;
        });
        if (strict && failures.Count > 0)
            throw new RuntimeException(RuntimeErrorKind.Internal,
                $"removing pod sandbox {sandbox.Id} failed (will be retried): {string.Join("; ", failures)}");
    }

    private static void DeleteDirectory(string path)
    {
        if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
    }
}
