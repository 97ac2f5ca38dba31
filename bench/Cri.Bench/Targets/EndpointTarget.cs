using Crisp.E2E.Daemon;
using Crisp.E2E.Fixtures;

namespace Crisp.Bench;

/// <summary>
/// Whatever runtime already serves the socket named by --endpoint. The bench only talks to it: it never starts,
/// kills or restarts it, so rows that need that say so instead of a number.
/// </summary>
public sealed class EndpointTarget : CriTarget
{
    private readonly string _socketPath;
    private readonly string _logDirectory;
    private readonly CriClient _client;

    private EndpointTarget(string socketPath)
    {
        _socketPath = socketPath;
        _client = new CriClient(socketPath);
        _logDirectory = Directory.CreateTempSubdirectory($"crisp-bench-endpoint-logs-{Environment.ProcessId}-").FullName;
        ExitCleanup.TrackDirectory(_logDirectory);
    }

    public override string Label => "unix://" + _socketPath;

    public override CriClient Client => _client;

    /// <summary>The process holding the listening socket, so its memory can be read.</summary>
    public override int? ProcessId => SocketOwner.FindListener(_socketPath);

    public override string LogDirectory => _logDirectory;

    public override bool CanRestart => false;

    public override Task KillAsync() => throw new NotSupportedException($"the bench does not kill {Label}: it did not start it");

    public override Task RestartAsync() => throw new NotSupportedException($"the bench does not restart {Label}: it did not start it");

    public static async Task<EndpointTarget> ConnectAsync(string socketPath)
    {
        var target = new EndpointTarget(socketPath);
        try
        {
            await ServingProbe.WaitAsync(target.Label, socketPath, () => target.Client, () => false, () => "", TimeSpan.FromSeconds(10));
            return target;
        }
        catch
        {
            await target.DisposeAsync();
            throw;
        }
    }

    public override ValueTask DisposeAsync()
    {
        _client.Dispose();
        try
        {
            Directory.Delete(_logDirectory, recursive: true);
            ExitCleanup.UntrackDirectory(_logDirectory);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
            // The runtime wrote container logs as another user.
        }
        return ValueTask.CompletedTask;
    }
}

/// <summary>--endpoint: every suite talks to the runtime already serving that socket.</summary>
public sealed class EndpointLauncher(string socketPath) : ICriTargetLauncher
{
    public string Label => "unix://" + socketPath;

    public bool StartsFresh => false;

    public async Task<CriTarget> StartAsync(string? sandboxImage, CancellationToken cancellationToken) => await EndpointTarget.ConnectAsync(socketPath);
}
