using Crisp.Runtime.Handlers;
using Crisp.Runtime.Monitor;
using Crisp.Runtime.State;

namespace Crisp.Runtime;

public sealed partial class ContainerRuntime
{
    /// <summary>How often live containers are checked for an exit the exit-dir watcher did not report.</summary>
    public static readonly TimeSpan ExitPollInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Backstop for the exit-dir watcher: conmon also records the exit code in the container's persist dir
    /// ("exit"), and under load its exit-dir file was seen to be missing while the persist one was there.
    /// Checking one file per live container each second keeps an exit from going unnoticed.
    /// </summary>
    public async Task PollExitsAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(ExitPollInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                foreach (var record in _store.Containers.Where(c => c.Phase is ContainerPhase.Running))
                {
                    var exit = ExitFile.TryRead(record.BundleDirectory, "exit");
                    if (exit is null) continue;
                    try
                    {
                        await MarkExitedAsync(record.Id, exit.ExitCode, exit.ExitedAt, ConmonFiles.OomMarkerExists(record.BundleDirectory));
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
}
