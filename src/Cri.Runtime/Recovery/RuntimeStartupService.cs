using Crisp.Runtime.Handlers;
using Crisp.Runtime.Monitor;
using Microsoft.Extensions.Hosting;

namespace Crisp.Runtime.Recovery;

/// <summary>
/// Runs once when crispd starts, before the gRPC server serves: probes the runtime handlers, reconciles the state
/// store with the host (see <see cref="ContainerRuntime.RecoverAsync"/>), then starts watching conmon exit files.
/// </summary>
public sealed class RuntimeStartupService(RuntimeHandlerRegistry handlers, ContainerRuntime runtime, ExitWatcher exits) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await Task.WhenAll(handlers.All.OfType<OciRuntimeHandler>().Select(h => h.ProbeAsync(cancellationToken)));
        await runtime.RecoverAsync(cancellationToken);
        exits.Start();
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
