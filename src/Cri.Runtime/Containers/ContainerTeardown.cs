using System.Diagnostics;
using Crisp.Cri.V1;
using Crisp.Runtime.Api;
using Crisp.Runtime.Events;
using Crisp.Runtime.Handlers;
using Crisp.Runtime.Host;
using Crisp.Runtime.ImageVolumes;
using Crisp.Runtime.Rootfs;
using Crisp.Runtime.State;
using Crisp.Runtime.Stats;
using Microsoft.Extensions.Logging;

namespace Crisp.Runtime.Containers;

/// <summary>StopContainer and RemoveContainer, and the undoing of everything a create made (also for rollback and recovery).</summary>
public sealed partial class ContainerTeardown(
    IStateStore store,
    KeyedLocks locks,
    RuntimeHandlerRegistry handlers,
    IRuntimeMounts mounts,
    ContainerExits exits,
    ContainerEventPublisher events,
    CpuRateTracker cpuRates,
    ImageVolumeManager imageVolumes,
    DeferredRemoval deferredRemoval,
    ILogger<ContainerTeardown> logger)
{
    private const int SigKill = 9;
    /// <summary>How many containers of one pod are stopped or destroyed at once: enough to overlap waits, few enough for 2 cores.</summary>
    private static readonly int PodParallelism = Math.Max(8, Environment.ProcessorCount * 4);
    /// <summary>How long a SIGKILLed container may take to be reported exited before we ask the runtime directly.</summary>
    private static readonly TimeSpan KillGrace = TimeSpan.FromSeconds(10);

    /// <summary>Stop signal (config, image, SIGTERM), wait up to timeout, then SIGKILL. Idempotent.</summary>
    public async Task StopContainerAsync(StopContainerRequest request, CancellationToken cancellationToken)
    {
        // Idempotent like StopPodSandbox: the kubelet retries stops of containers it already removed.
        if (store.LookupContainer(request.ContainerId) is not { } record) return;
        var timeout = request.Timeout > 0 ? TimeSpan.FromSeconds(request.Timeout) : TimeSpan.Zero;
        await StopAsync(record, timeout, cancellationToken);
    }

    public Task StopAsync(ContainerRecord record, TimeSpan timeout, CancellationToken cancellationToken) =>
        StopAsync(record, timeout, killedNeverStarted: false, cancellationToken);

    /// <param name="killedNeverStarted">The caller already killed the never-started container's init (see <see cref="StopAllAsync"/>).</param>
    private async Task StopAsync(ContainerRecord record, TimeSpan timeout, bool killedNeverStarted, CancellationToken cancellationToken)
    {
        if (record.Phase is not (ContainerPhase.Running or ContainerPhase.Created)) return;
        var handler = handlers.Get(record.RuntimeHandler);
        if (timeout > TimeSpan.Zero && record.Phase == ContainerPhase.Running)
        {
            Log.StoppingContainer(logger, record.Id, record.StopSignal, (long)timeout.TotalSeconds);
            await handler.KillAsync(record.Id, record.StopSignal, all: false, cancellationToken);
            if (await exits.WaitForExitAsync(record, timeout, cancellationToken)) return;
        }
        // A container that never started has one process, runc init waiting on its exec fifo: a signal to it (checked
        // against its recorded start time) ends it without starting a runtime process.
        if (!killedNeverStarted && !KillNeverStarted(record)) await handler.KillAsync(record.Id, SigKill, all: true, cancellationToken);
        if (await exits.WaitForExitAsync(record, KillGrace, cancellationToken)) return;

        // The exit notification did not arrive: ask the runtime and take conmon's exit file if it is there.
        var state = await handler.StateAsync(record.Id, cancellationToken);
        if (state is null || state.Status == Handlers.RuntimeStatus.Stopped)
        {
            var exit = exits.ReadExit(record);
            await exits.MarkExitedAsync(record.Id, exit?.ExitCode ?? 137, exit?.ExitedAt ?? DateTimeOffset.UtcNow,
                ConmonFiles.OomMarkerExists(record.BundleDirectory));
            return;
        }
        throw new RuntimeException(RuntimeErrorKind.DeadlineExceeded,
            $"container {record.Id} did not exit within {KillGrace.TotalSeconds}s of SIGKILL (runtime state {state.Status})");
    }

    private static long Ms(TimeSpan elapsed) => (long)elapsed.TotalMilliseconds;

    private static bool KillNeverStarted(ContainerRecord record) =>
        record is { Phase: ContainerPhase.Created, Pid: > 0, PidStartTime: > 0 }
        && new ProcessIdentity(record.Pid, record.PidStartTime).Signal(SigKill);

    /// <summary>
    /// Stops every container of a pod (StopPodSandbox, RemovePodSandbox) without grace, several at once so the waits for
    /// their exits overlap instead of adding up. Never-started containers are all signalled first (a kill(2) each, no
    /// runtime process): their conmons then report the exits together, instead of <see cref="PodParallelism"/> at a
    /// time, each batch waiting for conmon to be scheduled on a loaded node.
    /// </summary>
    public async Task StopAllAsync(IReadOnlyCollection<ContainerRecord> records, CancellationToken cancellationToken)
    {
        var live = records.Where(r => r.Phase is ContainerPhase.Running or ContainerPhase.Created).ToList();
        var killed = live.Where(KillNeverStarted).ToHashSet();
        await Parallel.ForEachAsync(
            live,
            new ParallelOptions { MaxDegreeOfParallelism = PodParallelism, CancellationToken = cancellationToken },
            async (record, token) => await StopAsync(record, TimeSpan.Zero, killed.Contains(record), token));
    }

    /// <summary>
    /// Removes every container of a pod: stopped first, all marked Removing in one write, their runtime state, mounts
    /// and directories undone several at once, then all deleted in one write and one DELETED event each. A container
    /// whose teardown failed keeps its Removing record (a retry or recovery finishes it) and the failures are reported.
    /// </summary>
    public async Task RemoveAllAsync(IReadOnlyCollection<ContainerRecord> records, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        await StopAllAsync(records, cancellationToken);
        var stopped = Stopwatch.GetElapsedTime(started);
        TimeSpan marked = default, undone = default, deleted = default;
        var held = new List<IDisposable>(records.Count);
        var removed = new List<ContainerRecord>(records.Count);
        var failures = new List<Exception>();
        try
        {
            foreach (var record in records.OrderBy(r => r.Id, StringComparer.Ordinal))
            {
                held.Add(await locks.AcquireAsync(record.Id, cancellationToken));
                if (store.FindContainer(record.Id) is not null) removed.Add(record);
            }
            foreach (var record in removed) record.Phase = ContainerPhase.Removing;
            await store.SaveAllAsync(removed, CancellationToken.None);
            marked = Stopwatch.GetElapsedTime(started);
            var destroyed = new System.Collections.Concurrent.ConcurrentBag<ContainerRecord>();
            await BlockingFanOut.RunAsync(removed, PodParallelism, async record =>
            {
                try
                {
                    await UndoEffectsAsync(record, handlers.Get(record.RuntimeHandler), strict: true, CancellationToken.None);
                    destroyed.Add(record);
                }
                catch (Exception ex)
                {
                    lock (failures) failures.Add(ex);
                }
            });
            removed = [.. destroyed];
            undone = Stopwatch.GetElapsedTime(started);
            await store.DeleteContainersAsync(removed.Select(r => r.Id).ToList(), CancellationToken.None);
            await imageVolumes.ReleaseAsync(removed);
            deleted = Stopwatch.GetElapsedTime(started);
            events.PublishAll(removed, ContainerEventType.ContainerDeletedEvent);
        }
        finally
        {
            foreach (var lease in held) lease.Dispose();
        }
        foreach (var record in removed)
        {
            locks.Forget(record.Id);
            exits.ForgetSignal(record.Id);
            cpuRates.Forget(record.Id);
        }
        Log.ContainersRemoved(logger, removed.Count);
        Log.RemovalTimings(logger, removed.Count, Ms(stopped), Ms(marked), Ms(undone), Ms(deleted), Ms(Stopwatch.GetElapsedTime(started)));
        if (failures.Count > 0)
            throw new RuntimeException(RuntimeErrorKind.Internal,
                $"{failures.Count} of {records.Count} containers could not be removed (kept as Removing for a retry); first: {failures[0].Message}",
                failures[0]);
    }

    /// <summary>
    /// Removes a container; its log file stays (the kubelet owns it). Idempotent. A running container is
    /// force-stopped first (SIGKILL, no grace), as the CRI contract for RemoveContainer demands and as
    /// containerd and CRI-O do; critest's "removing running container" conformance spec checks it.
    /// </summary>
    public async Task RemoveContainerAsync(RemoveContainerRequest request, CancellationToken cancellationToken)
    {
        var record = store.LookupContainer(request.ContainerId);
        if (record is null)
        {
            Log.UnknownContainerIgnored(logger, request.ContainerId, "remove");
            return;
        }
        if (record.Phase is ContainerPhase.Running or ContainerPhase.Created)
            await StopAsync(record, TimeSpan.Zero, cancellationToken);
        await RemoveAsync(record, cancellationToken);
    }

    public async Task RemoveAsync(ContainerRecord record, CancellationToken cancellationToken)
    {
        using (await locks.AcquireAsync(record.Id, cancellationToken))
        {
            if (store.FindContainer(record.Id) is null) return;
            record.Phase = ContainerPhase.Removing;
            await store.SaveAsync(record, CancellationToken.None);
            await DestroyAsync(record, handlers.Get(record.RuntimeHandler), strict: true, CancellationToken.None);
            events.Publish(record, ContainerEventType.ContainerDeletedEvent);
        }
        locks.Forget(record.Id);
        exits.ForgetSignal(record.Id);
        cpuRates.Forget(record.Id);
        Log.ContainerRemoved(logger, record.Id);
    }

    /// <summary>
    /// Undoes everything create made: runtime state and conmon, overlay mount, directories, exit file, record, and its
    /// share of image volumes.
    /// With <paramref name="strict"/> a failed step keeps the record (so a retry or recovery finishes the job)
    /// and the failure is reported; without it (rollback of a failed create) every step is attempted regardless.
    /// </summary>
    public async Task DestroyAsync(ContainerRecord record, IRuntimeHandler handler, bool strict, CancellationToken cancellationToken)
    {
        await UndoEffectsAsync(record, handler, strict, cancellationToken);
        await store.DeleteContainerAsync(record.Id, CancellationToken.None);
        await imageVolumes.ReleaseAsync([record]);
    }

    private async Task UndoEffectsAsync(ContainerRecord record, IRuntimeHandler handler, bool strict, CancellationToken cancellationToken)
    {
        var steps = new CleanupSteps(record.Id, logger);
        if (!record.RuntimeStateDeleted)
            await steps.RunAsync("delete runtime state", () => handler.DeleteAsync(record.Id, force: true, cancellationToken));
        await steps.RunAsync("unmount rootfs", async () =>
        {
            await mounts.UnmountRootfsAsync(record.RootfsPath, cancellationToken);
            record.RootfsMounted = false;
        });
        await steps.RunAsync("unmount idmapped volumes", () =>
        {
            mounts.UnmountAllUnder(record.IdmappedMountsPath);
            return Task.CompletedTask;
        });
        // With every mount undone the directories go to the trash (deleted off this call's time); after a failed
        // step they are deleted here, which refuses while anything is still mounted below them.
        var toDelete = steps.Failed ? [record.Directory, record.BundleDirectory] : deferredRemoval.MoveAside(record.Directory, record.BundleDirectory);
        if (toDelete.Count == 0 || await steps.RemoveDirectoriesAsync(mounts, [.. toDelete])) exits.ForgetExitFile(record.Id);
        if (strict) steps.ThrowIfFailed($"removing container {record.Id}");
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Debug, Message = "Container {ContainerId} is unknown; {Operation} is a no-op")]
        public static partial void UnknownContainerIgnored(ILogger logger, string containerId, string operation);

        [LoggerMessage(Level = LogLevel.Information, Message = "Stopping container {ContainerId} with signal {Signal}, {Timeout}s before SIGKILL")]
        public static partial void StoppingContainer(ILogger logger, string containerId, int signal, long timeout);

        [LoggerMessage(Level = LogLevel.Information, Message = "{Count} containers of a pod removed")]
        public static partial void ContainersRemoved(ILogger logger, int count);

        [LoggerMessage(Level = LogLevel.Debug,
            Message = "Removal of {Count} containers, ms since its start: stopped {Stopped}, marked Removing {Marked}, effects undone {Undone}, records deleted {Deleted}, events published {Published}")]
        public static partial void RemovalTimings(ILogger logger, int count, long stopped, long marked, long undone, long deleted, long published);

        [LoggerMessage(Level = LogLevel.Information, Message = "Container {ContainerId} removed")]
        public static partial void ContainerRemoved(ILogger logger, string containerId);
    }
}
