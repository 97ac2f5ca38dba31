using Crisp.Cri.V1;
using Crisp.E2E.Daemon;
using Crisp.E2E.Runtime;
using Grpc.Core;

namespace Crisp.E2E.Network;

/// <summary>
/// A crispd of a single test (its own CNI config, plugins, or a kill -9). Disposal stops and removes
/// its pods first, so a failing test does not leave veths and addresses on the shared test bridge.
/// </summary>
public sealed class NetworkDaemon : IAsyncDisposable
{
    private NetworkDaemon(CrispDaemon daemon) => Daemon = daemon;

    public CrispDaemon Daemon { get; }
    public RuntimeService.RuntimeServiceClient Runtime => Daemon.Runtime;
    public PodHelper Pods => new(Daemon, null);

    public static async Task<NetworkDaemon> StartAsync(DaemonOptions options) => new(await CrispDaemon.StartAsync(options));

    public async ValueTask DisposeAsync()
    {
        if (Daemon.ProcessId is not null) await RemoveAllPodsQuietlyAsync(Daemon);
        await Daemon.DisposeAsync();
    }

    internal static async Task RemoveAllPodsQuietlyAsync(CrispDaemon daemon)
    {
        try
        {
            await PodHelper.RemoveAllAsync(daemon.Runtime);
        }
        catch (RpcException)
        {
            // The test's own assertion says what went wrong; cleanup must not replace it.
        }
    }
}
