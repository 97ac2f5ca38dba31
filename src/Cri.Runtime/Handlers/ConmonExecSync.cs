using System.Globalization;
using System.Text.Json.Nodes;
using Crisp.Interop;
using Crisp.Runtime.Api;

namespace Crisp.Runtime.Handlers;

/// <summary>
/// ExecSync through conmon's exec mode (as CRI-O does). A plain `runc exec` copies the process's output through
/// its own pipes and will not exit before they reach EOF, so a background child that inherits them would hold
/// the call (and the exit code) hostage. conmon is the exec'd process's subreaper: it reports the exit code on
/// the sync pipe as soon as the process exits and writes the output to a CRI log that is read back afterwards.
/// At the deadline the exec'd process and its children are killed, and the call returns as soon as conmon has
/// reaped the process (bounded by a short grace), never waiting for output pipes.
/// </summary>
internal sealed class ConmonExecSync(ConmonLauncher launcher, string runtimePath, IReadOnlyList<string> runtimeArgs, string execRoot)
{
    /// <summary>How long a timed-out exec may take to die and be reaped before conmon is killed too.</summary>
    private static readonly TimeSpan StopGrace = TimeSpan.FromMilliseconds(400);

    private const int ConmonBackstopSeconds = 2;

    public async Task<ExecResult> RunAsync(
        string containerId, string bundlePath, IReadOnlyList<string> command, TimeSpan timeout, int outputCapBytes, CancellationToken ct)
    {
        var execId = Guid.NewGuid().ToString("N")[..16];
        var dir = Path.Combine(execRoot, execId);
        OwnedDirectory.Ensure(dir);
        try
        {
            var processSpec = Path.Combine(dir, "process.json");
            await OwnedFile.WriteTextAsync(processSpec, BuildProcessSpec(bundlePath, containerId, command), FileModes.PrivateFile, ct).ConfigureAwait(false);
            var logPath = Path.Combine(dir, "exec.log");
            var pidFile = Path.Combine(dir, "pidfile");

            var args = new List<string>
            {
                "--api-version", "1",
                "-c", containerId,
                "-n", containerId,
                "-u", execId,
                "-r", runtimePath,
                "-b", bundlePath,
                "-p", pidFile,
                "-P", Path.Combine(dir, ConmonLauncher.ConmonPidFileName),
                "-e",
                "--exec-process-spec", processSpec,
                "--exit-dir", dir,
                "--persist-dir", dir,
                "--socket-dir-path", dir,
                "-l", "k8s-file:" + logPath,
                "--log-level", "error",
            };
            foreach (var ra in runtimeArgs) { args.Add("--runtime-arg"); args.Add(ra); }

            if (timeout > TimeSpan.Zero)
            {
                // conmon's own timer is only a backstop for a crispd that went away mid-exec: it fires well after our
                // deadline (glib's second timers are imprecise) and conmon does not wait for the killed process.
                args.Add("--timeout");
                args.Add(Math.Min(Math.Ceiling(timeout.TotalSeconds) + ConmonBackstopSeconds, int.MaxValue).ToString("0", CultureInfo.InvariantCulture));
            }

            using var sync = new ConmonSyncChannel(Path.Combine(dir, ConmonLauncher.SyncFifoName));
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            if (timeout > TimeSpan.Zero) deadline.CancelAfter(timeout);

            var timedOut = false;
            var started = false;
            var finished = false;
            int exitCode = -1;
            try
            {
                await launcher.StartAsync(containerId, args, sync, Path.Combine(dir, ConmonLauncher.ConmonLogName), deadline.Token, ct).ConfigureAwait(false);
                var startMessage = ConmonSyncMessage.TryParse(await sync.ReadLineAsync(deadline.Token).ConfigureAwait(false));
                if (startMessage is null || startMessage.Data <= 0)
                {
                    finished = true;
                    throw new RuntimeException(RuntimeErrorKind.Internal,
                        $"exec in container {containerId} failed: {ConmonSyncMessage.CleanRuntimeError(startMessage?.Message ?? ConmonLauncher.ReadTail(Path.Combine(dir, ConmonLauncher.ConmonLogName)))}");
                }
                started = true;
                var exited = ConmonSyncMessage.TryParse(await sync.ReadLineAsync(deadline.Token).ConfigureAwait(false))
                    ?? throw new RuntimeException(RuntimeErrorKind.Internal, $"conmon did not report the exit of exec in container {containerId}");
                finished = true;
                if (exited.Data < 0 && exited.Message is { } m && m.Contains("timed out", StringComparison.OrdinalIgnoreCase)) timedOut = true;
                else exitCode = exited.Data;
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                timedOut = true;
            }
            catch (RuntimeException e) when (e.Kind == RuntimeErrorKind.DeadlineExceeded && !ct.IsCancellationRequested)
            {
                timedOut = true;
            }
            finally
            {
                if (!finished && (timedOut || ct.IsCancellationRequested))
                    await StopAsync(dir, execId, sync, started).ConfigureAwait(false);
            }
            ct.ThrowIfCancellationRequested();

            var (stdout, stderr) = CriLogParser.Read(logPath, outputCapBytes);
            return new ExecResult(timedOut ? -1 : exitCode, stdout, stderr, timedOut);
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); }
            catch (IOException) { }
        }
    }

    /// <summary>
    /// Kills the exec'd process (and what it started) and returns once conmon has reaped it. Killing conmon right
    /// away would orphan the dying process to the host's init, and until that reaps it the zombie still shows up
    /// in the container's /proc: a `pgrep` run straight after the timeout would list it (CRI conformance does).
    /// </summary>
    private static async Task StopAsync(string dir, string execId, ConmonSyncChannel sync, bool started)
    {
        using var grace = new CancellationTokenSource(StopGrace);
        if (ConmonFiles.ReadPid(Path.Combine(dir, ConmonLauncher.ConmonPidFileName)) is not { } conmon) return;
        try
        {
            if (!started)
            {
                // runc exec was still starting the process: let it finish so the process is killed, not missed.
                var startMessage = ConmonSyncMessage.TryParse(await sync.ReadLineAsync(grace.Token).ConfigureAwait(false));
                if (startMessage is null || startMessage.Data <= 0) return;
            }
            ExecProcessTree.KillDescendants(conmon, execId);
            // conmon reaps the process before it writes the exit: after this line nothing of the exec is left.
            await sync.ReadLineAsync(grace.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // conmon is stuck (or runc exec never returned): take down whatever it runs, then conmon itself.
            ExecProcessTree.KillDescendants(conmon, execId);
            ExecProcessTree.KillConmon(conmon, execId);
        }
    }

    /// <summary>The container's own process (user, env, cwd, capabilities...) with the command's args.</summary>
    /// <param name="terminal">Streaming exec with a tty: the runtime gives the process a console of its own.</param>
    internal static string BuildProcessSpec(string bundlePath, string containerId, IReadOnlyList<string> command, bool terminal = false)
    {
        JsonNode? config;
        try { config = JsonNode.Parse(File.ReadAllText(Path.Combine(bundlePath, "config.json"))); }
        catch (IOException e)
        {
            throw new RuntimeException(RuntimeErrorKind.NotFound, $"bundle of container {containerId} is unreadable: {e.Message}", e);
        }
        if (config?["process"] is not JsonObject process)
            throw new RuntimeException(RuntimeErrorKind.Internal, $"config.json of container {containerId} has no process");
        var copy = (JsonObject)process.DeepClone();
        copy["args"] = new JsonArray(command.Select(a => (JsonNode?)JsonValue.Create(a)).ToArray());
        copy["terminal"] = terminal;
        copy.Remove("consoleSize");
        return copy.ToJsonString();
    }
}
