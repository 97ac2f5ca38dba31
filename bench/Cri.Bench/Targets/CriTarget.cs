using Crisp.Cri.V1;
using Crisp.E2E.Daemon;

namespace Crisp.Bench;

/// <summary>
/// A CRI runtime the bench measures over its socket: crispd or containerd started by the bench on a private root,
/// or whatever already serves the socket given with --endpoint.
/// </summary>
public abstract class CriTarget : IAsyncDisposable
{
    /// <summary>What the table calls this runtime, e.g. "crispd (native)" or "containerd 1.6.20".</summary>
    public abstract string Label { get; }

    public abstract CriClient Client { get; }

    public RuntimeService.RuntimeServiceClient Runtime => Client.Runtime;

    public ImageService.ImageServiceClient Images => Client.Images;

    /// <summary>The daemon's own process (not its shims or conmons), while it runs; null when it is not known.</summary>
    public abstract int? ProcessId { get; }

    /// <summary>Where the bench, as the kubelet, creates each pod's log directory.</summary>
    public abstract string LogDirectory { get; }

    /// <summary>False for an --endpoint target: the bench neither kills nor starts a runtime it did not start.</summary>
    public virtual bool CanRestart => true;

    /// <summary>SIGKILL, as in a crash or an OOM kill: the runtime cleans nothing up.</summary>
    public abstract Task KillAsync();

    /// <summary>Starts the runtime again on the same state; returns once its socket answers Version.</summary>
    public abstract Task RestartAsync();

    public abstract ValueTask DisposeAsync();
}

/// <summary>Starts targets of one kind, each on a fresh private state.</summary>
public interface ICriTargetLauncher
{
    string Label { get; }

    /// <summary>False when the target is an existing endpoint: every start returns that same runtime, as it is.</summary>
    bool StartsFresh { get; }

    /// <param name="sandboxImage">The pause image for runtimes that need one (pushed to the bench's registry).</param>
    Task<CriTarget> StartAsync(string? sandboxImage, CancellationToken cancellationToken);
}
