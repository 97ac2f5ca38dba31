using System.Collections.Concurrent;
using Crisp.Cri.V1;
using Crisp.Runtime.Cgroups;
using Crisp.Runtime.Events;
using Crisp.Runtime.Handlers;
using Crisp.Runtime.Monitor;
using Crisp.Runtime.State;
using Microsoft.Extensions.Logging;

namespace Crisp.Runtime.Containers;

/// <summary>
/// Turns a container's exit (reported by the exit watcher, found by the stop path or by recovery) into its Exited
/// record and STOPPED event, once, and lets a stop wait for it.
/// </summary>
public sealed partial class ContainerExits
{
    /// <summary>How often live containers are checked for an exit the exit-dir watcher did not report.</summary>
    public static readonly TimeSpan ExitPollInterval = TimeSpan.FromSeconds(1);

    private readonly IStateStore _store;
    private readonly KeyedLocks _locks;
    private readonly ExitWatcher _watcher;
    private readonly ICgroupManager _cgroups;
    private readonly RuntimeHandlerRegistry _handlers;
    /// <summary>
    /// Runtime deletes at once when many containers exit together (a pod's stop): enough to overlap the runtime's
    /// start-up latency, few enough not to flood 2 cores with runtime processes.
    /// </summary>
    private readonly SemaphoreSlim _runtimeDeletes = new(Math.Max(8, Environment.ProcessorCount * 4));
    private readonly ContainerEventPublisher _events;
    private readonly ILogger<ContainerExits> _logger;
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _exitSignals = new(StringComparer.Ordinal);

    public ContainerExits(
        IStateStore store, KeyedLocks locks, ExitWatcher watcher, ICgroupManager cgroups, RuntimeHandlerRegistry handlers,
        ContainerEventPublisher events, ILogger<ContainerExits> logger)
    {
        _handlers = handlers;
        _store = store;
        _locks = locks;
        _watcher = watcher;
        _cgroups = cgroups;
        _events = events;
        _logger = logger;
        _watcher.ContainerExited += OnContainerExited;
    }

    /// <summary>The exit conmon recorded in the exit dir, or null.</summary>
    public ContainerExit? ReadExit(string containerId) => _watcher.ReadExit(containerId);

    /// <summary>The exit conmon recorded in the exit dir or, when that file is missing, in the container's persist dir; or null.</summary>
    public ContainerExit? ReadExit(ContainerRecord record) => _watcher.ReadExit(record.Id) ?? ExitFile.TryRead(record.BundleDirectory, "exit");

    /// <summary>Drops a removed container's exit file.</summary>
    public void ForgetExitFile(string containerId) => _watcher.Forget(containerId);

    /// <summary>Drops a removed container's exit signal.</summary>
    public void ForgetSignal(string containerId) => _exitSignals.TryRemove(containerId, out _);

    /// <summary>
    /// True once the container is recorded as no longer running, within <paramref name="timeout"/>. Every
    /// <see cref="PersistedExitCheckInterval"/> it also looks for conmon's persist-dir exit file: the exit-dir file
    /// the watcher reports was seen missing for about one container in twelve when a pod's many containers are killed
    /// at once, and a stop must not wait out its whole timeout for it.
    /// </summary>
    public async Task<bool> WaitForExitAsync(ContainerRecord record, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var signal = _exitSignals.GetOrAdd(record.Id, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (record.Phase is not (ContainerPhase.Running or ContainerPhase.Created)) return true;
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) return record.Phase is not (ContainerPhase.Running or ContainerPhase.Created);
            try
            {
                await signal.Task.WaitAsync(left < PersistedExitCheckInterval ? left : PersistedExitCheckInterval, cancellationToken);
                return true;
            }
            catch (TimeoutException)
            {
                if (record.Phase is not (ContainerPhase.Running or ContainerPhase.Created)) return true;
                if (await TakePersistedExitAsync(record)) return true;
            }
        }
    }

    /// <summary>How often a stop waiting for an exit also checks conmon's persist-dir exit file.</summary>
    public static readonly TimeSpan PersistedExitCheckInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Records the exit conmon wrote to the container's persist dir ("exit"), or returns false when there is none (yet).</summary>
    private async Task<bool> TakePersistedExitAsync(ContainerRecord record)
    {
        var exit = ExitFile.TryRead(record.BundleDirectory, "exit");
        if (exit is null) return false;
        await MarkExitedAsync(record.Id, exit.ExitCode, exit.ExitedAt, ConmonFiles.OomMarkerExists(record.BundleDirectory));
        return true;
    }

    /// <summary>Wakes whoever waits for this container's exit (the record already says it exited).</summary>
    public void SignalExited(string id) =>
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

    /// <summary>
    /// Records an exit (from the watcher, the stop path or recovery) once; later reports are ignored. Before the exit
    /// is recorded (and a stop waiting for it returns) the runtime's state of the container is deleted, as containerd
    /// deletes the task in its exit handler: RemoveContainer then has no runtime process to run. Recovery passes
    /// <paramref name="deleteRuntimeState"/> false so no runtime process runs per container before the socket
    /// answers; the removal deletes that state instead.
    /// </summary>
    public async Task MarkExitedAsync(string id, int exitCode, DateTimeOffset exitedAt, bool oomKilled, bool deleteRuntimeState = true)
    {
        var record = _store.FindContainer(id);
        if (record is null)
        {
            // The exit of a container already removed (conmon of a force-deleted, never-started container
            // reports after the removal): drop the file so nothing accumulates in the exit dir.
            _watcher.Forget(id);
            return;
        }
        using (await _locks.AcquireAsync(id, CancellationToken.None))
        {
            if (record.Phase is not (ContainerPhase.Running or ContainerPhase.Created)) return;
            if (!oomKilled && exitCode != 0) oomKilled = await CgroupSawOomKillAsync(record);
            if (deleteRuntimeState) record.RuntimeStateDeleted = await TryDeleteRuntimeStateAsync(record);
            record.Phase = ContainerPhase.Exited;
            record.ExitCode = exitCode;
            record.FinishedAtNanos = UnixNanos.FromDateTimeOffset(exitedAt);
            record.Reason = oomKilled ? "OOMKilled" : exitCode == 0 ? "Completed" : "Error";
            await _store.SaveAsync(record, CancellationToken.None);
            Log.ContainerExited(_logger, id, exitCode, record.Reason);
            SignalExited(id);
            _events.Publish(record, ContainerEventType.ContainerStoppedEvent);
        }
    }

    /// <summary>
    /// Recovery: records the exit conmon wrote to the exit dir, or returns false when there is none (yet). The
    /// runtime's state is left to the removal (no runtime process before the socket answers).
    /// </summary>
    public async Task<bool> TakeRecordedExitAsync(ContainerRecord record)
    {
        var exit = _watcher.ReadExit(record.Id);
        if (exit is null) return false;
        await MarkExitedAsync(record.Id, exit.ExitCode, exit.ExitedAt, ConmonFiles.OomMarkerExists(record.BundleDirectory), deleteRuntimeState: false);
        return true;
    }

    /// <summary>
    /// `runc delete` without --force: a runtime that still sees the container running keeps it (the removal then
    /// force-deletes it). A failure is logged and left to the removal, which deletes the state when this did not.
    /// </summary>
    private async Task<bool> TryDeleteRuntimeStateAsync(ContainerRecord record)
    {
        await _runtimeDeletes.WaitAsync();
        try
        {
            await _handlers.Get(record.RuntimeHandler).DeleteAsync(record.Id, force: false, CancellationToken.None);
            return true;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.RuntimeStateKept(_logger, ex, record.Id);
            return false;
        }
        finally
        {
            _runtimeDeletes.Release();
        }
    }

    private async Task<bool> CgroupSawOomKillAsync(ContainerRecord record)
    {
        try
        {
            return await _cgroups.SawOomKillAsync(record.CgroupsPath, CancellationToken.None);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>
    /// Backstop for the exit-dir watcher: conmon also records the exit code in the container's persist dir
    /// ("exit"), and under load its exit-dir file was seen to be missing while the persist one was there.
    /// Checking one file per live or created container each second keeps an exit from going unnoticed.
    /// </summary>
    public async Task PollExitsAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(ExitPollInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                // Created too: a never-started container killed by something other than a stop has an exit as well.
                foreach (var record in _store.Containers.Where(c => c.Phase is ContainerPhase.Running or ContainerPhase.Created))
                {
                    try
                    {
                        await TakePersistedExitAsync(record);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        Log.ExitHandlingFailed(_logger, ex, record.Id);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Container {ContainerId} exited with {ExitCode} ({Reason})")]
        public static partial void ContainerExited(ILogger logger, string containerId, int exitCode, string reason);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Container {ContainerId} exited; deleting its runtime state failed, its removal will retry")]
        public static partial void RuntimeStateKept(ILogger logger, Exception exception, string containerId);

        [LoggerMessage(Level = LogLevel.Error, Message = "Recording the exit of container {ContainerId} failed")]
        public static partial void ExitHandlingFailed(ILogger logger, Exception exception, string containerId);
    }
}
