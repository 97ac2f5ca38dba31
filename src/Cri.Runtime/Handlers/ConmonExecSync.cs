using System.Globalization;
using System.Text.Json.Nodes;
using Crisp.Interop;
using Crisp.Runtime.Api;
using Crisp.Runtime.Host;
using Crisp.Runtime.Streaming;

namespace Crisp.Runtime.Handlers;

/// <summary>
/// ExecSync through conmon's exec mode (as CRI-O does). A plain `runc exec` copies the process's output through
/// its own pipes and will not exit before they reach EOF, so a background child that inherits them would hold
/// the call (and the exit code) hostage. conmon is the exec'd process's subreaper: it reports the exit code on
/// the sync pipe as soon as the process exits. Its output goes nowhere on disk: conmon runs with `-l passthrough`,
/// so the process writes straight into pipes crispd reads into a budget-capped buffer while it runs
/// (<see cref="ExecSyncOutput"/>), and after the exit whatever is still coming is drained for a short bounded
/// while. At the deadline the exec'd process and its children are killed, and the call returns as soon as conmon
/// has reaped the process (bounded by a short grace), never waiting for output pipes.
/// </summary>
internal sealed class ConmonExecSync(ConmonLauncher launcher, string runtimePath, IReadOnlyList<string> runtimeArgs, string execRoot)
{
    /// <summary>How long a timed-out exec may take to die and be reaped before conmon is killed too.</summary>
    private static readonly TimeSpan StopGrace = TimeSpan.FromMilliseconds(400);

    /// <summary>
    /// After the exit, output still arriving (a background child kept the pipes) is read until it has been quiet
    /// this long; what the process wrote before it exited is already in the pipe and read at once.
    /// </summary>
    private static readonly TimeSpan OutputIdleAfterExit = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// The longest output is drained after the exit, however busy a leftover child keeps the pipes (or however long
    /// a loaded node leaves the readers unscheduled while the process's last output waits in them).
    /// </summary>
    private static readonly TimeSpan MaxDrainAfterExit = TimeSpan.FromSeconds(1);

    /// <summary>How long the readers may take to stop once their pipes are abandoned.</summary>
    private static readonly TimeSpan PumpStopGrace = TimeSpan.FromMilliseconds(500);

    /// <summary>How much of the runtime's stderr an error message quotes.</summary>
    private const int ErrorTextChars = 2000;

    /// <summary>How often a wait on the sync pipe checks that conmon is still there to write it.</summary>
    private static readonly TimeSpan ConmonWatchInterval = TimeSpan.FromMilliseconds(50);

    private const int ConmonBackstopSeconds = 2;

    private const int SigKill = 9;

    public async Task<ExecResult> RunAsync(
        string containerId, string bundlePath, IReadOnlyList<string> command, TimeSpan timeout, int outputBudgetBytes, CancellationToken ct)
    {
        var execId = Guid.NewGuid().ToString("N")[..16];
        var dir = Path.Combine(execRoot, execId);
        OwnedDirectory.Ensure(dir);
        try
        {
            var processSpec = Path.Combine(dir, "process.json");
            await OwnedFile.WriteTextAsync(processSpec, BuildProcessSpec(bundlePath, containerId, command), FileModes.PrivateFile, ct).ConfigureAwait(false);
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
                "-l", "passthrough",
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

            using var output = new ExecSyncOutput(outputBudgetBytes);
            using var sync = new ConmonSyncChannel(Path.Combine(dir, ConmonLauncher.SyncFifoName));
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            if (timeout > TimeSpan.Zero) deadline.CancelAfter(timeout);
            using var reading = new CancellationTokenSource();
            using var conmonParent = await launcher.LaunchAsync(containerId, args, sync, Path.Combine(dir, ConmonLauncher.ConmonLogName), passOutput: true).ConfigureAwait(false);
            var stdoutPump = new StreamPump();
            var stderrPump = new StreamPump();
            var pumps = new List<(StreamPump, Task)>
            {
                (stdoutPump, stdoutPump.CopyAsync(conmonParent.StandardOutput, output.Stdout, reading.Token)),
                (stderrPump, stderrPump.CopyAsync(conmonParent.StandardError, output.Stderr, reading.Token)),
            };

            var timedOut = false;
            var started = false;
            var finished = false;
            int exitCode = -1;
            try
            {
                await ConmonLauncher.WaitForMonitorAsync(conmonParent.Process, containerId, () => output.StderrText(ErrorTextChars), deadline.Token, ct).ConfigureAwait(false);
                var conmonPidFile = Path.Combine(dir, ConmonLauncher.ConmonPidFileName);
                var startMessage = ConmonSyncMessage.TryParse(await ReadSyncAsync(sync, conmonPidFile, execId, deadline.Token).ConfigureAwait(false));
                if (startMessage is null || startMessage.Data <= 0)
                {
                    finished = true;
                    // The runtime's own words went to the stderr pipe (passthrough); they end when it has exited.
                    await StreamPump.AwaitQuietlyAsync(Task.WhenAll(pumps.Select(p => p.Item2)), PumpStopGrace).ConfigureAwait(false);
                    var runtimeError = output.StderrText(ErrorTextChars);
                    throw new RuntimeException(RuntimeErrorKind.Internal,
                        $"exec in container {containerId} failed: {ConmonSyncMessage.CleanRuntimeError(runtimeError.Length > 0 ? runtimeError : startMessage?.Message)}");
                }
                started = true;
                var exited = ConmonSyncMessage.TryParse(await ReadSyncAsync(sync, conmonPidFile, execId, deadline.Token).ConfigureAwait(false))
                    ?? throw new RuntimeException(RuntimeErrorKind.Internal, $"conmon did not report the exit of exec in container {containerId}");
                finished = true;
                if (exited.Data < 0 && exited.Message is { } m && m.Contains("timed out", StringComparison.OrdinalIgnoreCase)) timedOut = true;
                else
                {
                    exitCode = exited.Data;
                    using var drain = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    drain.CancelAfter(MaxDrainAfterExit);
                    await StreamPump.DrainAsync(pumps, OutputIdleAfterExit, drain.Token, conmonParent.OutputPending).ConfigureAwait(false);
                }
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
                // A child still holding the pipes writes into closed pipes from here on (EPIPE), as under conmon's own logging.
                await reading.CancelAsync().ConfigureAwait(false);
                await StreamPump.AwaitQuietlyAsync(Task.WhenAll(pumps.Select(p => p.Item2)), PumpStopGrace).ConfigureAwait(false);
            }
            ct.ThrowIfCancellationRequested();

            if (timedOut) return new ExecResult(-1, [], [], TimedOut: true, output.DroppedBytes);
            var (stdout, stderr) = output.ToArrays();
            return new ExecResult(exitCode, stdout, stderr, TimedOut: false, output.DroppedBytes);
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); }
            catch (IOException) { }
        }
    }

    /// <summary>
    /// The next line on the sync pipe, or an empty one once the exec's conmon has exited without writing it. conmon
    /// 2.1 with `-l passthrough` exits silently when the runtime fails to start the process (the error went to the
    /// stderr pipe crispd reads), and our end of the fifo never sees EOF, so conmon itself is watched meanwhile.
    /// </summary>
    private static async Task<string> ReadSyncAsync(ConmonSyncChannel sync, string conmonPidFile, string execId, CancellationToken ct)
    {
        var line = sync.ReadLineAsync(ct);
        ProcessIdentity? conmon = null;
        while (true)
        {
            var done = await Task.WhenAny(line, Task.Delay(ConmonWatchInterval, ct)).ConfigureAwait(false);
            if (done == line) return await line.ConfigureAwait(false);
            ct.ThrowIfCancellationRequested();
            // conmon writes its pid file itself: a pid there that is not (or no longer) this exec's conmon means it exited.
            var gone = false;
            if (conmon is null && ConmonFiles.ReadPid(conmonPidFile) is not null)
            {
                conmon = ConmonFiles.IdentifyExecConmon(conmonPidFile, execId);
                gone = conmon is null;
            }
            if (gone || conmon is { } c && !c.IsAlive())
            {
                // A line written right before the exit is still in the fifo.
                try { return await line.WaitAsync(ConmonWatchInterval, ct).ConfigureAwait(false); }
                catch (TimeoutException) { return ""; }
            }
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
        if (ConmonFiles.IdentifyExecConmon(Path.Combine(dir, ConmonLauncher.ConmonPidFileName), execId) is not { } conmon) return;
        try
        {
            if (!started)
            {
                // runc exec was still starting the process: let it finish so the process is killed, not missed.
                var startMessage = ConmonSyncMessage.TryParse(await sync.ReadLineAsync(grace.Token).ConfigureAwait(false));
                if (startMessage is null || startMessage.Data <= 0) return;
            }
            ExecProcessTree.KillDescendants(conmon);
            // conmon reaps the process before it writes the exit: after this line nothing of the exec is left.
            await sync.ReadLineAsync(grace.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // conmon is stuck (or runc exec never returned): take down whatever it runs, then conmon itself.
            ExecProcessTree.KillDescendants(conmon);
            conmon.Signal(SigKill);
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
