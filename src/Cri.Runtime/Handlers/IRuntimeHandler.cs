using Crisp.Runtime.Api;

namespace Crisp.Runtime.Handlers;

/// <summary>One configured OCI runtime (runc, crun) driven through its runc-compatible command line, under conmon.</summary>
public interface IRuntimeHandler
{
    string Name { get; }

    /// <summary>Absolute path of the runtime binary (empty when it was not found).</summary>
    string BinaryPath { get; }

    /// <summary>Probed once at start; never re-probed. Holds the probe's verdict once <see cref="Probed"/> completed.</summary>
    HandlerAvailability Availability { get; }

    /// <summary>
    /// Completes when <see cref="Availability"/> is the probe's verdict: crispd serves while the probe still runs, so
    /// whatever depends on the verdict awaits this first (see <see cref="RuntimeHandlerRegistry.GetReadyAsync"/>).
    /// </summary>
    Task Probed => Task.CompletedTask;

    /// <summary>
    /// Starts conmon, which runs `&lt;runtime&gt; create`; returns once the container is Created and its pid file is written.
    /// Throws <see cref="RuntimeException"/> carrying the runtime's own error text when create fails.
    /// </summary>
    Task CreateAsync(ContainerLaunch launch, CancellationToken ct);

    Task StartAsync(string containerId, CancellationToken ct);

    /// <summary>Signals the container's init (or every process with <paramref name="all"/>); a container that is not running is not an error.</summary>
    Task KillAsync(string containerId, int signal, bool all, CancellationToken ct);

    /// <summary>Deletes the runtime's record of the container; an absent container is not an error.</summary>
    Task DeleteAsync(string containerId, bool force, CancellationToken ct);

    /// <summary>The runtime's state of the container, or null when the runtime does not know it.</summary>
    Task<RuntimeState?> StateAsync(string containerId, CancellationToken ct);

    /// <summary>Applies an OCI linux.resources JSON document to the running container (`update --resources -`).</summary>
    Task UpdateResourcesAsync(string containerId, string linuxResourcesJson, CancellationToken ct);

    /// <summary>
    /// Runs a command in the container and collects its output, stdout and stderr together held to
    /// <paramref name="outputBudgetBytes"/> while it runs (the rest is dropped, and each truncated stream says so).
    /// At the deadline the process is killed and the call returns with <see cref="ExecResult.TimedOut"/>; a background
    /// child holding the pipes cannot hold it longer.
    /// </summary>
    Task<ExecResult> ExecSyncAsync(ExecTarget target, IReadOnlyList<string> command, TimeSpan timeout, int outputBudgetBytes, CancellationToken ct);

    /// <summary>
    /// Streaming exec (kubectl exec): runs a command in the container with the client's streams as its stdio (or
    /// a terminal with <paramref name="tty"/>) and returns its exit code. Cancelling kills the exec'd process.
    /// </summary>
    Task<int> ExecAsync(string containerId, IReadOnlyList<string> command, bool tty, Streaming.StreamingIo io, CancellationToken ct);

    /// <summary>Asks the container's conmon to reopen its log file (after the kubelet rotated it); does not wait for it.</summary>
    Task ReopenLogAsync(string containerId, CancellationToken ct);

    /// <summary>
    /// Like <see cref="ReopenLogAsync(string, CancellationToken)"/>, but returns only once conmon has created the new
    /// file at <paramref name="logPath"/> (as the kubelet expects right after rotating), or fails after a few seconds.
    /// </summary>
    Task ReopenLogAsync(string containerId, string logPath, CancellationToken ct);
}
