using Crisp.ImageService.Api;
using Crisp.Runtime.Containers;
using Crisp.Runtime.Handlers;
using Crisp.Runtime.Monitor;
using Crisp.Runtime.State;
using Microsoft.Extensions.Hosting;

namespace Crisp.Runtime.Recovery;

/// <summary>
/// Runs once when crispd starts, before the gRPC server serves: reconciles the state store with the host (after
/// rebuilding it from disk when its database was unusable; see <see cref="DiskStateRebuilder"/>) (see
/// <see cref="RecoveryService.RecoverAsync"/>), then starts watching conmon exit files (and the persist-dir backstop
/// poll) until the host stops. The runtime handlers' probes start here too but do not hold the socket back: each runs
/// a container of its own (several runtime processes, the longest step of an empty start), and every RPC that depends
/// on a verdict awaits it (<see cref="IRuntimeHandler.Probed"/>), so no status is answered from an unprobed handler.
/// </summary>
public sealed class RuntimeStartupService : IHostedService, IDisposable
{
    private readonly RuntimeHandlerRegistry _handlers;
    private readonly RecoveryService _recovery;
    private readonly ExitWatcher _watcher;
    private readonly ContainerExits _exits;
    private readonly StateStore _store;
    private readonly DiskStateRebuilder _rebuilder;
    private readonly CancellationTokenSource _stopping = new();
    private Task? _exitPoll;
    private Task _probes = Task.CompletedTask;

    public RuntimeStartupService(
        RuntimeHandlerRegistry handlers, RecoveryService recovery, ExitWatcher watcher, ContainerExits exits, StateStore store, IImageManager images,
        DiskStateRebuilder rebuilder)
    {
        _store = store;
        _rebuilder = rebuilder;
        _handlers = handlers;
        _recovery = recovery;
        _watcher = watcher;
        _exits = exits;
        // Registered when the host is built, before anything is served: image removal and GC must never delete
        // a layer snapshot that a container's rootfs uses (nor any while a quarantined record could name one).
        images.RegisterSnapshotUsage(store.LayerDirsInUse);
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Recovery needs no verdict from the probes, so the two overlap; the probes outlive this method (see above).
        _probes = Task.WhenAll(_handlers.All.OfType<OciRuntimeHandler>().Select(h => h.ProbeAsync(_stopping.Token)));
        // A database set aside as unusable left the store empty: first take back what the host still proves.
        if (_store.SetAsideDatabase is not null) await _rebuilder.RebuildAsync(cancellationToken);
        await _recovery.RecoverAsync(cancellationToken);
        _watcher.Start();
        _exitPoll = Task.Run(() => _exits.PollExitsAsync(_stopping.Token), CancellationToken.None);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_exitPoll is not null) await _exitPoll.WaitAsync(cancellationToken);
        // A probe cut short by the stop still removes its throw-away bundle before crispd exits.
        try { await _probes.WaitAsync(cancellationToken); }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested) { }
    }

    public void Dispose() => _stopping.Dispose();
}
