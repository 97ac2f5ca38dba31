using System.Text.Json.Nodes;
using Crisp.Interop;
using Crisp.Runtime.Api;

namespace Crisp.Runtime.Handlers;

/// <summary>
/// ExecSync through conmon's exec mode (as CRI-O does). A plain `runc exec` copies the process's output through
/// its own pipes and will not exit before they reach EOF, so a background child that inherits them would hold
/// the call (and the exit code) hostage. conmon is the exec'd process's subreaper: it reports the exit code on
/// the sync pipe as soon as the process exits and writes the output to a CRI log that is read back afterwards.
/// At the deadline the exec'd process is killed and the call returns without waiting for anything.
/// </summary>
internal sealed class ConmonExecSync(ConmonLauncher launcher, string runtimePath, IReadOnlyList<string> runtimeArgs, string execRoot)
{
    private const int SigKill = 9;

    public async Task<ExecResult> RunAsync(
        string containerId, string bundlePath, IReadOnlyList<string> command, TimeSpan timeout, int outputCapBytes, CancellationToken ct)
    {
        var execId = Guid.NewGuid().ToString("N")[..16];
        var dir = Path.Combine(execRoot, execId);
        Directory.CreateDirectory(dir);
        try
        {
            var processSpec = Path.Combine(dir, "process.json");
            await File.WriteAllTextAsync(processSpec, BuildProcessSpec(bundlePath, containerId, command), ct).ConfigureAwait(false);
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
                "-P", Path.Combine(dir, "conmon.pid"),
                "-e",
                "--exec-process-spec", processSpec,
                "--exit-dir", dir,
                "--persist-dir", dir,
                "--socket-dir-path", dir,
                "-l", "k8s-file:" + logPath,
                "--log-level", "error",
            };
            foreach (var ra in runtimeArgs) { args.Add("--runtime-arg"); args.Add(ra); }

            using var sync = new ConmonSyncChannel(Path.Combine(dir, ConmonLauncher.SyncFifoName));
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            if (timeout > TimeSpan.Zero) deadline.CancelAfter(timeout);

            var timedOut = false;
            int exitCode = -1;
            try
            {
                await launcher.StartAsync(containerId, args, sync, Path.Combine(dir, ConmonLauncher.ConmonLogName), deadline.Token, ct).ConfigureAwait(false);
                var started = ConmonSyncMessage.TryParse(await sync.ReadLineAsync(deadline.Token).ConfigureAwait(false));
                if (started is null || started.Data <= 0)
                    throw new RuntimeException(RuntimeErrorKind.Internal,
                        $"exec in container {containerId} failed: {ConmonSyncMessage.CleanRuntimeError(started?.Message ?? ConmonLauncher.ReadTail(Path.Combine(dir, ConmonLauncher.ConmonLogName)))}");
                var exited = ConmonSyncMessage.TryParse(await sync.ReadLineAsync(deadline.Token).ConfigureAwait(false))
                    ?? throw new RuntimeException(RuntimeErrorKind.Internal, $"conmon did not report the exit of exec in container {containerId}");
                exitCode = exited.Data;
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
                if (timedOut || ct.IsCancellationRequested) KillExec(dir, pidFile);
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

    private static void KillExec(string dir, string pidFile)
    {
        // The exec'd process first (its death makes conmon finish), then conmon itself in case it is stuck.
        if (ConmonFiles.ReadPid(pidFile) is { } pid) Libc.Kill(pid, SigKill);
        if (ConmonFiles.ReadPid(Path.Combine(dir, "conmon.pid")) is { } conmon) Libc.Kill(conmon, SigKill);
    }

    /// <summary>The container's own process (user, env, cwd, capabilities...) with the command's args.</summary>
    private static string BuildProcessSpec(string bundlePath, string containerId, IReadOnlyList<string> command)
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
        copy["terminal"] = false;
        copy.Remove("consoleSize");
        return copy.ToJsonString();
    }
}
