using System.Collections.Concurrent;
using Crisp.Cri.V1;
using Crisp.Interop.Procfs;
using Crisp.Runtime.Api;
using Crisp.Runtime.Handlers;
using Crisp.Runtime.Monitor;
using Crisp.Runtime.Rootfs;
using Crisp.Runtime.State;

namespace Crisp.Runtime;

public sealed partial class ContainerRuntime
{
    private const int SigKill = 9;
    /// <summary>How long a SIGKILLed container may take to be reported exited before we ask the runtime directly.</summary>
    private static readonly TimeSpan KillGrace = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, TaskCompletionSource> _exitSignals = new(StringComparer.Ordinal);

    /// <summary>Stop signal (config, image, SIGTERM), wait up to timeout, then SIGKILL. Idempotent.</summary>
    public async Task StopContainerAsync(StopContainerRequest request, CancellationToken cancellationToken)
    {
        // Idempotent like StopPodSandbox: the kubelet retries stops of containers it already removed.
        if (FindContainer(request.ContainerId) is not { } record) return;
        var timeout = request.Timeout > 0 ? TimeSpan.FromSeconds(request.Timeout) : TimeSpan.Zero;
        await StopContainerCoreAsync(record, timeout, cancellationToken);
    }

    private async Task StopContainerCoreAsync(ContainerRecord record, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (record.Phase is not (ContainerPhase.Running or ContainerPhase.Created)) return;
        var handler = HandlerOf(record.RuntimeHandler);
        if (timeout > TimeSpan.Zero && record.Phase == ContainerPhase.Running)
        {
            Log.StoppingContainer(_logger, record.Id, record.StopSignal, (long)timeout.TotalSeconds);
            await handler.KillAsync(record.Id, record.StopSignal, all: false, cancellationToken);
            if (await WaitForExitAsync(record, timeout, cancellationToken)) return;
        }
        await handler.KillAsync(record.Id, SigKill, all: true, cancellationToken);
        if (await WaitForExitAsync(record, KillGrace, cancellationToken)) return;

        // The exit notification did not arrive: ask the runtime and take conmon's exit file if it is there.
        var state = await handler.StateAsync(record.Id, cancellationToken);
        if (state is null || state.Status == Handlers.RuntimeStatus.Stopped)
        {
            var exit = _exits.ReadExit(record.Id);
            await MarkExitedAsync(record.Id, exit?.ExitCode ?? 137, exit?.ExitedAt ?? DateTimeOffset.UtcNow,
                ConmonFiles.OomMarkerExists(record.BundleDirectory));
            return;
        }
        throw new RuntimeException(RuntimeErrorKind.DeadlineExceeded,
            $"container {record.Id} did not exit within {KillGrace.TotalSeconds}s of SIGKILL (runtime state {state.Status})");
    }

    private async Task<bool> WaitForExitAsync(ContainerRecord record, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var signal = _exitSignals.GetOrAdd(record.Id, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (record.Phase is not (ContainerPhase.Running or ContainerPhase.Created)) return true;
        try
        {
            await signal.Task.WaitAsync(timeout, cancellationToken);
            return true;
        }
        catch (TimeoutException)
        {
            return record.Phase is not (ContainerPhase.Running or ContainerPhase.Created);
        }
    }

    private void SignalExited(string id) =>
        _exitSignals.GetOrAdd(id, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    private void OnContainerExited(object? sender, ContainerExitedEventArgs e) =>
        _ = Task.Run(async () =>
        {
            try
            {
                await MarkExitedAsync(e.ContainerId, e.ExitCode, e.ExitedAt, e.OomKilled);
            }
            catch (Exception ex)
            {
                Log.ExitHandlingFailed(_logger, ex, e.ContainerId);
            }
        });

    /// <summary>Records an exit (from the watcher, the stop path or recovery) once; later reports are ignored.</summary>
    private async Task MarkExitedAsync(string id, int exitCode, DateTimeOffset exitedAt, bool oomKilled)
    {
        var record = _store.FindContainer(id);
        if (record is null)
        {
            // The exit of a container already removed (conmon of a force-deleted, never-started container
            // reports after the removal): drop the file so nothing accumulates in the exit dir.
            _exits.Forget(id);
            return;
        }
        using (await _locks.AcquireAsync(id, CancellationToken.None))
        {
            if (record.Phase is not (ContainerPhase.Running or ContainerPhase.Created)) return;
            if (!oomKilled && exitCode != 0) oomKilled = await CgroupSawOomKillAsync(record);
            record.Phase = ContainerPhase.Exited;
            record.ExitCode = exitCode;
            record.FinishedAtNanos = UnixNanos.FromDateTimeOffset(exitedAt);
            record.Reason = oomKilled ? "OOMKilled" : exitCode == 0 ? "Completed" : "Error";
            await _store.SaveAsync(record, CancellationToken.None);
            Log.ContainerExited(_logger, id, exitCode, record.Reason);
            SignalExited(id);
            PublishEvent(record, ContainerEventType.ContainerStoppedEvent);
        }
    }

    private async Task<bool> CgroupSawOomKillAsync(ContainerRecord record)
    {
        try
        {
            var stats = await _cgroups.ReadStatsAsync(record.CgroupsPath, CancellationToken.None);
            return stats?.OomKilled ?? false;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>
    /// Removes a container; its log file stays (the kubelet owns it). Idempotent. A running container is
    /// force-stopped first (SIGKILL, no grace), as the CRI contract for RemoveContainer demands and as
    /// containerd and CRI-O do; critest's "removing running container" conformance spec checks it.
    /// </summary>
    public async Task RemoveContainerAsync(RemoveContainerRequest request, CancellationToken cancellationToken)
    {
        var record = FindContainer(request.ContainerId);
        if (record is null)
        {
            Log.UnknownContainerIgnored(_logger, request.ContainerId, "remove");
            return;
        }
        if (record.Phase is ContainerPhase.Running or ContainerPhase.Created)
            await StopContainerCoreAsync(record, TimeSpan.Zero, cancellationToken);
        await RemoveContainerCoreAsync(record, cancellationToken);
    }

    private async Task RemoveContainerCoreAsync(ContainerRecord record, CancellationToken cancellationToken)
    {
        using (await _locks.AcquireAsync(record.Id, cancellationToken))
        {
            if (_store.FindContainer(record.Id) is null) return;
            record.Phase = ContainerPhase.Removing;
            await _store.SaveAsync(record, CancellationToken.None);
            await DestroyContainerAsync(record, HandlerOf(record.RuntimeHandler), strict: true, CancellationToken.None);
            PublishEvent(record, ContainerEventType.ContainerDeletedEvent);
        }
        _locks.Forget(record.Id);
        _exitSignals.TryRemove(record.Id, out _);
        _cpuRates.Forget(record.Id);
        Log.ContainerRemoved(_logger, record.Id);
    }

    /// <summary>
    /// Undoes everything create made: runtime state and conmon, overlay mount, directories, exit file, record.
    /// With <paramref name="strict"/> a failed step keeps the record (so a retry or recovery finishes the job)
    /// and the failure is reported; without it (rollback of a failed create) every step is attempted regardless.
    /// </summary>
    private async Task DestroyContainerAsync(ContainerRecord record, IRuntimeHandler handler, bool strict, CancellationToken cancellationToken)
    {
        var failures = new List<string>();
        async Task Step(string what, Func<Task> action)
        {
            try { await action(); }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.CleanupStepFailed(_logger, ex, record.Id, what);
                failures.Add($"{what}: {ex.Message}");
            }
        }

        await Step("delete runtime state", () => handler.DeleteAsync(record.Id, force: true, cancellationToken));
        await Step("unmount rootfs", async () =>
        {
            if (MountTable.ReadSelf().IsMountPoint(record.RootfsPath)) await OverlayRootfs.UnmountAsync(record.RootfsPath, cancellationToken);
            record.RootfsMounted = false;
        });
        await Step("remove directories", () =>
        {
            // Never delete through a mount that is still there: that would reach into image layers or the host.
            var table = MountTable.ReadSelf();
            var mounts = table.MountPointsUnder(record.Directory).Concat(table.MountPointsUnder(record.BundleDirectory)).ToList();
            if (mounts.Count > 0) throw new IOException($"still mounted: {string.Join(", ", mounts)}");
            DeleteDirectory(record.Directory);
            DeleteDirectory(record.BundleDirectory);
            _exits.Forget(record.Id);
            return Task.CompletedTask;
        });
        if (strict && failures.Count > 0)
            throw new RuntimeException(RuntimeErrorKind.Internal,
                $"removing container {record.Id} failed (will be retried): {string.Join("; ", failures)}");
        await _store.DeleteContainerAsync(record.Id, CancellationToken.None);
    }
}
