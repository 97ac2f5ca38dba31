using System.Diagnostics;
using Crisp.Interop;
using Crisp.Runtime.Api;

namespace Crisp.Runtime.Handlers;

/// <summary>
/// `&lt;runtime&gt; exec` with a hard deadline. runc hands our pipes straight to the exec'd process, so any
/// background child it leaves holds them too: the call therefore stops reading at the deadline instead of
/// waiting for EOF, and kills the exec'd process (found through --pid-file) as well as the runtime.
/// </summary>
internal static class ExecSyncRunner
{
    private const int SigKill = 9;

    /// <summary>After the command exits its output is already in the pipes; wait this long for EOF at most.</summary>
    private static readonly TimeSpan DrainAfterExit = TimeSpan.FromMilliseconds(250);

    public static async Task<ExecResult> RunAsync(
        string runtimePath, IReadOnlyList<string> globalArgs, string containerId, IReadOnlyList<string> command,
        TimeSpan timeout, int outputCapBytes, CancellationToken ct)
    {
        var pidFile = Path.Combine(Path.GetTempPath(), $"crisp-exec-{Guid.NewGuid():N}.pid");
        var psi = new ProcessStartInfo(runtimePath)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in globalArgs) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add("exec");
        psi.ArgumentList.Add("--pid-file");
        psi.ArgumentList.Add(pidFile);
        psi.ArgumentList.Add(containerId);
        foreach (var a in command) psi.ArgumentList.Add(a);

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        if (timeout > TimeSpan.Zero) deadline.CancelAfter(timeout);
        using var stopReading = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token);

        using var process = Process.Start(psi)
            ?? throw new RuntimeException(RuntimeErrorKind.Internal, $"could not start {runtimePath} exec for container {containerId}");
        try
        {
            process.StandardInput.Close();
            var stdout = new CappedBuffer(outputCapBytes);
            var stderr = new CappedBuffer(outputCapBytes);
            var readers = Task.WhenAll(
                stdout.DrainAsync(process.StandardOutput.BaseStream, stopReading.Token),
                stderr.DrainAsync(process.StandardError.BaseStream, stopReading.Token));

            var timedOut = false;
            try
            {
                await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                timedOut = !ct.IsCancellationRequested;
                KillExecProcess(pidFile);
                CommandRunner.TryKill(process);
            }

            if (!timedOut && !ct.IsCancellationRequested)
            {
                // Output written before exit is buffered in the pipes; a lingering background child may keep them
                // open forever, so give EOF only a short grace period.
                stopReading.CancelAfter(DrainAfterExit);
            }
            else
            {
                stopReading.Cancel();
            }
            await readers.ConfigureAwait(false);
            ct.ThrowIfCancellationRequested();

            if (timedOut)
                return new ExecResult(-1, stdout.ToArray(), stderr.ToArray(), TimedOut: true);

            var exitCode = process.ExitCode;
            var err = stderr.ToArray();
            if (exitCode != 0 && !File.Exists(pidFile) && err.Length > 0)
            {
                // The runtime itself failed before starting anything (no such container, not running...).
                var text = System.Text.Encoding.UTF8.GetString(err);
                if (text.Contains("does not exist", StringComparison.Ordinal) || text.Contains("not running", StringComparison.Ordinal)
                    || text.Contains("cannot exec in a stopped", StringComparison.Ordinal))
                    throw new RuntimeException(RuntimeErrorKind.NotFound, $"exec in container {containerId}: {ConmonSyncMessage.CleanRuntimeError(text)}");
            }
            return new ExecResult(exitCode, stdout.ToArray(), err, TimedOut: false);
        }
        finally
        {
            if (!process.HasExited) CommandRunner.TryKill(process);
            try { File.Delete(pidFile); } catch (IOException) { }
        }
    }

    private static void KillExecProcess(string pidFile)
    {
        var pid = ConmonFiles.ReadPid(pidFile);
        if (pid is > 0) Libc.Kill(pid.Value, SigKill);
    }
}
