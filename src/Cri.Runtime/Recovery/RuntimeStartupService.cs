using Crisp.Runtime.Handlers;
using Crisp.Runtime.Monitor;
using Microsoft.Extensions.Hosting;

namespace Crisp.Runtime.Recovery;

/// <summary>
/// Runs once when crispd starts, before the gRPC server serves: probes the runtime handlers, reconciles the state
/// store with the host (see <see cref="ContainerRuntime.RecoverAsync"/>), then starts watching conmon exit files
/// (and the persist-dir backstop poll) until the host stops.
/// </summary>
public sealed class RuntimeStartupService(RuntimeHandlerRegistry handlers, ContainerRuntime runtime, ExitWatcher exits) : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private Task? _exitPoll;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await Task.WhenAll(handlers.All.OfType<OciRuntimeHandler>().Select(h => h.ProbeAsync(cancellationToken)));
        await runtime.RecoverAsync(cancellationToken);
        exits.Start();
        _exitPoll = Task.Run(() => runtime.PollExitsAsync(_stopping.Token), CancellationToken.None);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_exitPoll is not null) await _exitPoll.WaitAsync(cancellationToken);
    }

    public void Dispose() => _stopping.Dispose();
}
