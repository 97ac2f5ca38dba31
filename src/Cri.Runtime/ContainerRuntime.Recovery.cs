using Crisp.Interop;
using Crisp.Runtime.Handlers;
using Crisp.Runtime.Sandboxes;
using Crisp.Runtime.State;

namespace Crisp.Runtime;

public sealed partial class ContainerRuntime
{
    /// <summary>
    /// Reconciles the store with what is really on the host, once at start before serving: finishes half-done
    /// creates and removes, takes exits conmon recorded while crispd was down, and marks pods whose namespaces
    /// or shm vanished (reboot) not ready. Nothing is lost and nothing leaks across a kill -9.
    /// </summary>
    public async Task RecoverAsync(CancellationToken cancellationToken)
    {
        // Ensure also tightens what an older crispd created 0755.
        OwnedDirectory.Ensure(ExitDir);
        OwnedDirectory.Ensure(ContainersRoot);
        OwnedDirectory.Ensure(SandboxesRoot);
        OwnedDirectory.Ensure(ContainersStateRoot);
        OwnedDirectory.Ensure(SandboxesStateRoot);
        OwnedDirectory.Ensure(_namespaces.Directory);

        foreach (var container in _store.Containers)
        {
            try
            {
                await RecoverContainerAsync(container, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.RecoveryFailed(_logger, ex, "container", container.Id);
            }
        }
        foreach (var sandbox in _store.Sandboxes)
        {
            try
            {
                await RecoverSandboxAsync(sandbox, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.RecoveryFailed(_logger, ex, "pod sandbox", sandbox.Id);
            }
        }
        await DetachOrphanedNetworksAsync(cancellationToken);
        Log.RecoveryDone(_logger, _store.Sandboxes.Count, _store.Containers.Count);
    }

    private async Task RecoverContainerAsync(ContainerRecord record, CancellationToken cancellationToken)
    {
        var handler = TryHandlerOf(record.RuntimeHandler);
        switch (record.Phase)
        {
            case ContainerPhase.Creating:
                Log.RecoveryAction(_logger, record.Id, "removing container left half-created");
                if (handler is not null) await DestroyContainerAsync(record, handler, strict: false, cancellationToken);
                else await _store.DeleteContainerAsync(record.Id, cancellationToken);
                return;
            case ContainerPhase.Removing:
                Log.RecoveryAction(_logger, record.Id, "finishing interrupted removal");
                if (handler is not null) await DestroyContainerAsync(record, handler, strict: true, cancellationToken);
                else await _store.DeleteContainerAsync(record.Id, cancellationToken);
                return;
            case ContainerPhase.Exited:
                return;
        }

        var state = handler is null ? null : await handler.StateAsync(record.Id, cancellationToken);
        if (state is not null && state.Status is RuntimeStatus.Running or RuntimeStatus.Created or RuntimeStatus.Paused or RuntimeStatus.Creating)
        {
            if (state.Status == RuntimeStatus.Running && record.Phase == ContainerPhase.Created)
            {
                // Crashed between `runc start` and saving Running: the container did start.
                record.Phase = ContainerPhase.Running;
                record.StartedAtNanos = UnixNanos.Now();
                await _store.SaveAsync(record, cancellationToken);
            }
            // An exit may have been recorded in the window between the state query and the watcher arming.
            var late = _exits.ReadExit(record.Id);
            if (late is not null) await MarkExitedAsync(record.Id, late.ExitCode, late.ExitedAt, ConmonFiles.OomMarkerExists(record.BundleDirectory));
            return;
        }

        var exit = _exits.ReadExit(record.Id);
        if (exit is not null)
        {
            Log.RecoveryAction(_logger, record.Id, $"container exited with {exit.ExitCode} while crispd was down");
            await MarkExitedAsync(record.Id, exit.ExitCode, exit.ExitedAt, ConmonFiles.OomMarkerExists(record.BundleDirectory));
            return;
        }
        // No runtime state and no exit file: the host rebooted (both live on tmpfs) or conmon was killed.
        Log.RecoveryAction(_logger, record.Id, "container is gone and its exit status is unknown");
        using (await _locks.AcquireAsync(record.Id, cancellationToken))
        {
            record.Phase = ContainerPhase.Exited;
            record.ExitCode = 255;
            record.FinishedAtNanos = UnixNanos.Now();
            record.Reason = "Unknown";
            record.Message = "the container disappeared while crispd was not running (host reboot or conmon killed); its exit status is unknown";
            await _store.SaveAsync(record, cancellationToken);
        }
    }

    private async Task RecoverSandboxAsync(SandboxRecord sandbox, CancellationToken cancellationToken)
    {
        switch (sandbox.Phase)
        {
            case SandboxPhase.Creating:
                Log.RecoveryAction(_logger, sandbox.Id, "removing pod sandbox left half-created");
                await TearDownSandboxAsync(sandbox, strict: false, cancellationToken);
                await _network.AbandonAsync(sandbox.Id, cancellationToken);
                await _store.DeleteSandboxAsync(sandbox.Id, cancellationToken);
                return;
            case SandboxPhase.Removing:
                Log.RecoveryAction(_logger, sandbox.Id, "finishing interrupted pod sandbox removal");
                await RemovePodSandboxAsync(new Cri.V1.RemovePodSandboxRequest { PodSandboxId = sandbox.Id }, cancellationToken);
                return;
            case SandboxPhase.Ready:
                var missing = new[] { sandbox.NetworkNamespacePath, sandbox.IpcNamespacePath, sandbox.UtsNamespacePath, sandbox.PidNamespacePath }
                    .Where(p => !string.IsNullOrEmpty(p) && !File.Exists(p)).ToList();
                var shmLost = sandbox.ShmMounted && !MountTable.IsMountPoint(sandbox.ShmPath);
                // A shared PID namespace lives only as long as its holder process (the pod's pid 1).
                if (!string.IsNullOrEmpty(sandbox.PidNamespacePath) && !_namespaces.IsPidHolderAlive(sandbox.Id))
                    missing.Add("pid namespace holder");
                if (missing.Count > 0 || shmLost)
                {
                    Log.RecoveryAction(_logger, sandbox.Id, $"pod sandbox lost {(shmLost ? "its shm mount " : "")}{string.Join(", ", missing)}; marking it not ready");
                    sandbox.Phase = SandboxPhase.NotReady;
                    if (shmLost) sandbox.ShmMounted = false;
                    await _store.SaveAsync(sandbox, cancellationToken);
                }
                return;
        }
    }
}
