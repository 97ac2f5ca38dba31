using Crisp.ImageService.Api;
using Crisp.Runtime.Containers;
using Crisp.Runtime.Handlers;
using Crisp.Runtime.Monitor;
using Crisp.Runtime.State;
using Microsoft.Extensions.Hosting;

namespace Crisp.Runtime.Recovery;

/// <summary>
/// Runs once when crispd starts, before the gRPC server serves: probes the runtime handlers, reconciles the state
/// store with the host (see <see cref="RecoveryService.RecoverAsync"/>), then starts watching conmon exit files
/// (and the persist-dir backstop poll) until the host stops.
/// </summary>
public sealed class RuntimeStartupService : IHostedService, IDisposable
{
    private readonly RuntimeHandlerRegistry _handlers;
    private readonly RecoveryService _recovery;
    private readonly ExitWatcher _watcher;
    private readonly ContainerExits _exits;
    private readonly CancellationTokenSource _stopping = new();
    private Task? _exitPoll;

    public RuntimeStartupService(
        RuntimeHandlerRegistry handlers, RecoveryService recovery, ExitWatcher watcher, ContainerExits exits, IStateStore store, IImageManager images)
    {
        _handlers = handlers;
        _recovery = recovery;
        _watcher = watcher;
        _exits = exits;
        // Registered when the host is built, before anything is served: image removal and GC must never delete
        // a layer snapshot that a container's rootfs uses.
        images.RegisterSnapshotUsage(() => store.Containers.SelectMany(c => c.LayerDirs).ToHashSet(StringComparer.Ordinal));
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await Task.WhenAll(_handlers.All.OfType<OciRuntimeHandler>().Select(h => h.ProbeAsync(cancellationToken)));
        await _recovery.RecoverAsync(cancellationToken);
        _watcher.Start();
        _exitPoll = Task.Run(() => _exits.PollExitsAsync(_stopping.Token), CancellationToken.None);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_exitPoll is not null) await _exitPoll.WaitAsync(cancellationToken);
    }

    public void Dispose() => _stopping.Dispose();
}
