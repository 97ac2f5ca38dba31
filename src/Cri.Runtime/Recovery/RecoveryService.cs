using Crisp.Interop;
using Crisp.Runtime.Containers;
using Crisp.Runtime.Handlers;
using Crisp.Runtime.Host;
using Crisp.Runtime.ImageVolumes;
using Crisp.Runtime.Namespaces;
using Crisp.Runtime.Network;
using Crisp.Runtime.Rootfs;
using Crisp.Runtime.Sandboxes;
using Crisp.Runtime.State;
using Microsoft.Extensions.Logging;

namespace Crisp.Runtime.Recovery;

/// <summary>
/// Reconciles the store with what is really on the host, once at start before serving: finishes half-done
/// creates and removes, takes exits conmon recorded while crispd was down, and marks pods whose namespaces
/// or shm vanished (reboot) not ready. Nothing is lost and nothing leaks across a kill -9.
/// </summary>
public sealed partial class RecoveryService(
    RuntimeLayout layout,
    IStateStore store,
    KeyedLocks locks,
    RuntimeHandlerRegistry handlers,
    IPodNamespaces namespaces,
    IPodNetwork network,
    IRuntimeMounts mounts,
    ContainerTeardown containers,
    ContainerExits exits,
    SandboxService sandboxes,
    ImageVolumeManager imageVolumes,
    DeferredRemoval deferredRemoval,
    ILogger<RecoveryService> logger)
{
    public async Task RecoverAsync(CancellationToken cancellationToken)
    {
        foreach (var directory in layout.Directories) OwnedDirectory.Ensure(directory);

        foreach (var container in store.Containers)
        {
            try
            {
                await RecoverContainerAsync(container, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.RecoveryFailed(logger, ex, "container", container.Id);
            }
        }
        foreach (var sandbox in store.Sandboxes)
        {
            try
            {
                await RecoverSandboxAsync(sandbox, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.RecoveryFailed(logger, ex, "pod sandbox", sandbox.Id);
            }
        }
        await DetachOrphanedNetworksAsync(cancellationToken);
        // Volumes stay mounted across a restart for the containers still using them; one a crash left unused goes.
        await imageVolumes.ReconcileAsync();
        // What a crash left in the trash (and what the removals above put there) goes in the background.
        _ = deferredRemoval.ScheduleSweep();
        Log.RecoveryDone(logger, store.Sandboxes.Count, store.Containers.Count);
    }

    private async Task RecoverContainerAsync(ContainerRecord record, CancellationToken cancellationToken)
    {
        var handler = TryHandlerOf(record.RuntimeHandler);
        switch (record.Phase)
        {
            case ContainerPhase.Creating:
                Log.RecoveryAction(logger, record.Id, "removing container left half-created");
                if (handler is not null) await containers.DestroyAsync(record, handler, strict: false, cancellationToken);
                else await store.DeleteContainerAsync(record.Id, cancellationToken);
                return;
            case ContainerPhase.Removing:
                Log.RecoveryAction(logger, record.Id, "finishing interrupted removal");
                if (handler is not null) await containers.DestroyAsync(record, handler, strict: true, cancellationToken);
                else await store.DeleteContainerAsync(record.Id, cancellationToken);
                return;
            case ContainerPhase.Exited:
                return;
        }

        if (handler is not null && await RecoverFromRecordedProcessAsync(record)) return;

        var state = handler is null ? null : await handler.StateAsync(record.Id, cancellationToken);
        if (state is not null && state.Status is RuntimeStatus.Running or RuntimeStatus.Created or RuntimeStatus.Paused or RuntimeStatus.Creating)
        {
            if (state.Status == RuntimeStatus.Running && record.Phase == ContainerPhase.Created)
            {
                // Crashed between `runc start` and saving Running: the container did start.
                record.Phase = ContainerPhase.Running;
                record.StartedAtNanos = UnixNanos.Now();
                await store.SaveAsync(record, cancellationToken);
            }
            // An exit may have been recorded in the window between the state query and the watcher arming.
            await exits.TakeRecordedExitAsync(record);
            return;
        }

        var exit = exits.ReadExit(record);
        if (exit is not null)
        {
            Log.RecoveryAction(logger, record.Id, $"container exited with {exit.ExitCode} while crispd was down");
            await exits.MarkExitedAsync(record.Id, exit.ExitCode, exit.ExitedAt, ConmonFiles.OomMarkerExists(record.BundleDirectory), deleteRuntimeState: false);
            return;
        }
        // No runtime state and no exit file: the host rebooted (both live on tmpfs) or conmon was killed.
        Log.RecoveryAction(logger, record.Id, "container is gone and its exit status is unknown");
        using (await locks.AcquireAsync(record.Id, cancellationToken))
        {
            record.Phase = ContainerPhase.Exited;
            record.ExitCode = 255;
            record.FinishedAtNanos = UnixNanos.Now();
            record.Reason = "Unknown";
            record.Message = "the container disappeared while crispd was not running (host reboot or conmon killed); its exit status is unknown";
            await store.SaveAsync(record, cancellationToken);
        }
    }

    /// <summary>
    /// Settles a Created or Running container from its recorded init process and conmon's exit file alone, without a
    /// runtime process: true when they agree with the record (or prove the exit), false when only the runtime can tell
    /// (a Created container whose init no longer waits to start may have been started just before the crash; a gone
    /// process without an exit file may be a few milliseconds ahead of conmon, or lost to a reboot).
    /// </summary>
    private async Task<bool> RecoverFromRecordedProcessAsync(ContainerRecord record)
    {
        switch (RecordedInitProcess.Check(record))
        {
            case RecordedInit.Running when record.Phase == ContainerPhase.Running:
            case RecordedInit.WaitingToStart when record.Phase == ContainerPhase.Created:
                // An exit may have been recorded in the window between the check and the watcher arming.
                await exits.TakeRecordedExitAsync(record);
                return true;
            case RecordedInit.Gone when exits.ReadExit(record) is { } exit:
                Log.RecoveryAction(logger, record.Id, $"container exited with {exit.ExitCode} while crispd was down");
                await exits.MarkExitedAsync(record.Id, exit.ExitCode, exit.ExitedAt, ConmonFiles.OomMarkerExists(record.BundleDirectory), deleteRuntimeState: false);
                return true;
            default:
                return false;
        }
    }

    /// <summary>The handler a record names, or null when the configuration no longer has it.</summary>
    private IRuntimeHandler? TryHandlerOf(string name)
    {
        try { return handlers.Get(name); }
        catch (Api.RuntimeException) { return null; }
    }

    private async Task RecoverSandboxAsync(SandboxRecord sandbox, CancellationToken cancellationToken)
    {
        switch (sandbox.Phase)
        {
            case SandboxPhase.Creating:
                Log.RecoveryAction(logger, sandbox.Id, "removing pod sandbox left half-created");
                await sandboxes.DiscardHalfCreatedAsync(sandbox, cancellationToken);
                return;
            case SandboxPhase.Removing:
                Log.RecoveryAction(logger, sandbox.Id, "finishing interrupted pod sandbox removal");
                await sandboxes.RemoveAsync(sandbox, cancellationToken);
                return;
            case SandboxPhase.Ready:
                var missing = new[] { sandbox.NetworkNamespacePath, sandbox.IpcNamespacePath, sandbox.UtsNamespacePath, sandbox.PidNamespacePath, sandbox.UserNamespacePath }
                    .Where(p => !string.IsNullOrEmpty(p) && !File.Exists(p)).ToList();
                var shmLost = sandbox.ShmMounted && !mounts.IsMountPoint(sandbox.ShmPath);
                // A shared PID namespace lives only as long as its holder process (the pod's pid 1).
                if (!string.IsNullOrEmpty(sandbox.PidNamespacePath) && !namespaces.IsPidHolderAlive(sandbox.Id))
                    missing.Add("pid namespace holder");
                if (missing.Count > 0 || shmLost)
                {
                    Log.RecoveryAction(logger, sandbox.Id, $"pod sandbox lost {(shmLost ? "its shm mount " : "")}{string.Join(", ", missing)}; marking it not ready");
                    sandbox.Phase = SandboxPhase.NotReady;
                    if (shmLost) sandbox.ShmMounted = false;
                    await store.SaveAsync(sandbox, cancellationToken);
                }
                return;
        }
    }

    /// <summary>
    /// DEL for attachments whose sandbox record is gone (a crash between the record's removal and the cache's),
    /// so no IP allocation, veth or hostPort rule outlives its pod.
    /// </summary>
    private async Task DetachOrphanedNetworksAsync(CancellationToken cancellationToken)
    {
        foreach (var sandboxId in network.AttachedSandboxIds().ToList())
        {
            if (store.FindSandbox(sandboxId) is not null) continue;
            Log.RecoveryAction(logger, sandboxId, "releasing the CNI attachment of a pod sandbox that no longer exists");
            try { await network.DetachAsync(sandboxId, cancellationToken); }
            catch (Api.RuntimeException ex) { Log.RecoveryFailed(logger, ex, "pod network", sandboxId); }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Error, Message = "Recovery of {Kind} {Id} failed; it is left as recorded")]
        public static partial void RecoveryFailed(ILogger logger, Exception exception, string kind, string id);

        [LoggerMessage(Level = LogLevel.Information, Message = "Recovery of {Id}: {Action}")]
        public static partial void RecoveryAction(ILogger logger, string id, string action);

        [LoggerMessage(Level = LogLevel.Information, Message = "Recovery done: {Sandboxes} pod sandboxes, {Containers} containers")]
        public static partial void RecoveryDone(ILogger logger, int sandboxes, int containers);
    }
}
