using System.Collections.Concurrent;
using Crisp.Runtime.Api;
using Crisp.Runtime.Handlers;
using Crisp.Runtime.Streaming;

namespace Crisp.Runtime.Tests.Fakes;

/// <summary>
/// A runc under conmon as the lifecycle sees it: containers it knows, with their state. A kill makes the container
/// stop and report its exit through <see cref="Exited"/>, as conmon's exit file does.
/// </summary>
public sealed class FakeRuntimeHandler(string name = "runc") : IRuntimeHandler
{
    private readonly ConcurrentDictionary<string, RuntimeStatus> _containers = new(StringComparer.Ordinal);

    public string Name => name;
    public string BinaryPath => "/usr/bin/" + name;
    public HandlerAvailability Availability { get; set; } = new(true, null, false, false);
    public Task Probed { get; set; } = Task.CompletedTask;

    public Exception? FailCreate { get; set; }
    public Exception? FailStart { get; set; }
    public Exception? FailDelete { get; set; }

    /// <summary>Called while the runtime creates a container, to see the host as runc saw it then.</summary>
    public Action<ContainerLaunch>? Creating { get; set; }

    /// <summary>Called with the container id and exit code when a kill stops a container (conmon reporting the exit).</summary>
    public Func<string, int, Task>? Exited { get; set; }

    public List<(string Id, int Signal)> Kills { get; } = [];
    public IReadOnlyCollection<string> Known => _containers.Keys.ToList();

    public RuntimeStatus? StatusOf(string id) => _containers.TryGetValue(id, out var s) ? s : null;

    /// <summary>Sets what the runtime says about a container; null forgets it (runc has no record).</summary>
    public void SetStatus(string id, RuntimeStatus? status)
    {
        if (status is null) _containers.TryRemove(id, out _);
        else _containers[id] = status.Value;
    }

    public Task CreateAsync(ContainerLaunch launch, CancellationToken ct)
    {
        // runc records the container before a failing create is reported, so the rollback has to delete it.
        _containers[launch.ContainerId] = RuntimeStatus.Creating;
        Creating?.Invoke(launch);
        if (FailCreate is not null) throw FailCreate;
        _containers[launch.ContainerId] = RuntimeStatus.Created;
        return Task.CompletedTask;
    }

    public Task StartAsync(string containerId, CancellationToken ct)
    {
        if (FailStart is not null) throw FailStart;
        _containers[containerId] = RuntimeStatus.Running;
        return Task.CompletedTask;
    }

    public async Task KillAsync(string containerId, int signal, bool all, CancellationToken ct)
    {
        lock (Kills) Kills.Add((containerId, signal));
        if (!_containers.TryGetValue(containerId, out var status) || status == RuntimeStatus.Stopped) return;
        _containers[containerId] = RuntimeStatus.Stopped;
        if (Exited is not null) await Exited(containerId, 128 + signal);
    }

    /// <summary>Every delete asked for, in order, with its --force.</summary>
    public List<(string Id, bool Force)> Deletes { get; } = [];

    public Task DeleteAsync(string containerId, bool force, CancellationToken ct)
    {
        lock (Deletes) Deletes.Add((containerId, force));
        if (FailDelete is not null) throw FailDelete;
        // As runc: without --force only a stopped container is deleted.
        if (!force && _containers.TryGetValue(containerId, out var status) && status != RuntimeStatus.Stopped)
            throw new RuntimeException(RuntimeErrorKind.Internal, $"cannot delete container {containerId} that is not stopped: {status}");
        _containers.TryRemove(containerId, out _);
        return Task.CompletedTask;
    }

    /// <summary>How many times the runtime was asked for a container's state (each one a process with a real runtime).</summary>
    public int StateQueries => _stateQueries;
    private int _stateQueries;

    public Task<RuntimeState?> StateAsync(string containerId, CancellationToken ct)
    {
        Interlocked.Increment(ref _stateQueries);
        return Task.FromResult(_containers.TryGetValue(containerId, out var s) ? new RuntimeState(containerId, s, 0, null, null) : null);
    }

    public Task UpdateResourcesAsync(string containerId, string linuxResourcesJson, CancellationToken ct) => Task.CompletedTask;

    public Task<ExecResult> ExecSyncAsync(ExecTarget target, IReadOnlyList<string> command, TimeSpan timeout, int outputCapBytes, CancellationToken ct) =>
        throw new NotSupportedException("exec is not modelled by the fake handler");

    public Task<int> ExecAsync(string containerId, IReadOnlyList<string> command, bool tty, StreamingIo io, CancellationToken ct) =>
        throw new NotSupportedException("exec is not modelled by the fake handler");

    public Task ReopenLogAsync(string containerId, CancellationToken ct) => Task.CompletedTask;

    public Task ReopenLogAsync(string containerId, string logPath, CancellationToken ct) => Task.CompletedTask;
}
