using System.Diagnostics;
using Crisp.Interop;
using Crisp.Interop.Procfs;
using Crisp.Runtime.Api;
using Crisp.Runtime.Handlers;
using Microsoft.Extensions.Logging;

namespace Crisp.Runtime.Streaming;

/// <summary>
/// A streaming exec (kubectl exec): `&lt;runtime&gt; exec --process` in the foreground, its stdio wired to the
/// client. Unlike ExecSync it is not run under conmon: the client holds the session open and wants the bytes
/// as they come, and the runtime's own exit is the process's exit code.
///
/// With a tty the runtime runs on a host pty whose master crispd holds; runc (process.terminal = true) then makes
/// the container-side console itself, puts our pty in raw mode, copies between the two, and forwards SIGWINCH,
/// so a TIOCSWINSZ on our master resizes the process's terminal (the approach CRI-O takes).
/// </summary>
internal sealed partial class RuntimeExecSession(string runtimePath, IReadOnlyList<string> globalArgs, string execRoot, ILogger logger)
{
    /// <summary>How long output may stay quiet after the process exited before a pipe held by a leftover child is abandoned.</summary>
    internal static readonly TimeSpan OutputIdleAfterExit = TimeSpan.FromSeconds(1);

    /// <summary>How long a killed exec may take to go away before the runtime process itself is killed.</summary>
    private static readonly TimeSpan KillGrace = TimeSpan.FromSeconds(2);

    private const int SigKill = 9;

    /// <summary>Runs the process described by <paramref name="processSpecJson"/> and returns its exit code.</summary>
    public async Task<int> RunAsync(string containerId, string processSpecJson, bool tty, StreamingIo io, CancellationToken ct)
    {
        var dir = Path.Combine(execRoot, "stream-" + Guid.NewGuid().ToString("N")[..16]);
        OwnedDirectory.Ensure(dir);
        try
        {
            var processFile = Path.Combine(dir, "process.json");
            await OwnedFile.WriteTextAsync(processFile, processSpecJson, FileModes.PrivateFile, ct).ConfigureAwait(false);
            var pidFile = Path.Combine(dir, "pid");
            var args = new List<string>(globalArgs) { "exec", "--process", processFile, "--pid-file", pidFile, containerId };
            return tty
                ? await RunOnTerminalAsync(containerId, args, pidFile, io, ct).ConfigureAwait(false)
                : await RunOnPipesAsync(containerId, args, pidFile, io, ct).ConfigureAwait(false);
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); }
            catch (IOException) { }
        }
    }

    private async Task<int> RunOnPipesAsync(string containerId, List<string> args, string pidFile, StreamingIo io, CancellationToken ct)
    {
        var psi = NewStartInfo(runtimePath);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var process = Start(psi, containerId, args);
        using var session = CancellationTokenSource.CreateLinkedTokenSource(ct);

        var stdout = new StreamPump();
        var stderr = new StreamPump();
        var pumps = new List<(StreamPump, Task)>
        {
            (stdout, stdout.CopyAsync(process.StandardOutput.BaseStream, io.Stdout, session.Token)),
            (stderr, stderr.CopyAsync(process.StandardError.BaseStream, io.Stderr, session.Token)),
        };
        // Without a client stdin the process reads EOF at once, as it would from /dev/null.
        var stdin = io.Stdin is null
            ? CloseQuietly(process.StandardInput.BaseStream)
            : CopyStdinAsync(io.Stdin, process.StandardInput.BaseStream, closeAtEnd: true, session.Token);

        try
        {
            await WaitOrKillAsync(process, pidFile, containerId, ct).ConfigureAwait(false);
            await StreamPump.DrainAsync(pumps, OutputIdleAfterExit, ct).ConfigureAwait(false);
        }
        finally
        {
            await session.CancelAsync().ConfigureAwait(false);
            await StreamPump.AwaitQuietlyAsync(Task.WhenAll(pumps.Select(p => p.Item2)), KillGrace).ConfigureAwait(false);
            await StreamPump.AwaitQuietlyAsync(stdin, KillGrace).ConfigureAwait(false);
        }
        return process.ExitCode;
    }

    private async Task<int> RunOnTerminalAsync(string containerId, List<string> args, string pidFile, StreamingIo io, CancellationToken ct)
    {
        var setsid = ExecutableLocator.Find("setsid")
            ?? throw new RuntimeException(RuntimeErrorKind.Internal, "util-linux setsid was not found; exec with a tty needs it");
        var (master, slavePath) = Libc.OpenPseudoTerminal();
        using var masterHandle = master;
        // The slave becomes the runtime's stdio and controlling terminal (setsid -c), so resizes reach it as
        // SIGWINCH; crispd itself never opens the slave, and the master reads EIO once the runtime is gone.
        var psi = NewStartInfo("/bin/sh");
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("exec \"$0\" -w -c \"$@\" <>\"$CRISP_EXEC_PTS\" >&0 2>&0");
        psi.ArgumentList.Add(setsid);
        psi.ArgumentList.Add(runtimePath);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["CRISP_EXEC_PTS"] = slavePath;

        // runc copies our terminal's size to the process's console once, right after the process started (and on
        // every SIGWINCH): a size the client already sent is put in place first, so that copy is already right.
        if (io.Resize is not null && io.Resize.TryRead(out var initial) && initial.Width > 0 && initial.Height > 0)
            Libc.SetWindowSize(master, initial.Height, initial.Width);

        using var process = Start(psi, containerId, args);
        await CloseQuietly(process.StandardInput.BaseStream).ConfigureAwait(false);
        using var session = CancellationTokenSource.CreateLinkedTokenSource(ct);
        // Two streams over one handle: a read blocked on the master must not hold up a write to it.
        var fromTerminal = new FileStream(master, FileAccess.Read, bufferSize: 0);
        var toTerminal = new FileStream(master, FileAccess.Write, bufferSize: 0);

        var output = new StreamPump();
        var pumps = new List<(StreamPump, Task)> { (output, output.CopyAsync(fromTerminal, io.Stdout, session.Token)) };
        // A terminal has no EOF to pass on: when the client closes stdin the process just gets no more input.
        var stdin = io.Stdin is null ? Task.CompletedTask : CopyStdinAsync(io.Stdin, toTerminal, closeAtEnd: false, session.Token);
        var resize = io.Resize is null ? Task.CompletedTask : ResizeAsync(io.Resize, master, containerId, session.Token);

        try
        {
            await WaitOrKillAsync(process, pidFile, containerId, ct).ConfigureAwait(false);
            await StreamPump.DrainAsync(pumps, OutputIdleAfterExit, ct).ConfigureAwait(false);
        }
        finally
        {
            await session.CancelAsync().ConfigureAwait(false);
            await StreamPump.AwaitQuietlyAsync(stdin, KillGrace).ConfigureAwait(false);
            await StreamPump.AwaitQuietlyAsync(resize, KillGrace).ConfigureAwait(false);
            // A read on a pty master cannot be cancelled; it ends with EIO now that the runtime has exited.
            await StreamPump.AwaitQuietlyAsync(pumps[0].Item2, KillGrace).ConfigureAwait(false);
        }
        return process.ExitCode;
    }

    private static ProcessStartInfo NewStartInfo(string fileName)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.Environment.Remove("NOTIFY_SOCKET");
        psi.Environment.Remove("LISTEN_FDS");
        psi.Environment.Remove("LISTEN_PID");
        return psi;
    }

    private Process Start(ProcessStartInfo psi, string containerId, List<string> args)
    {
        LogStarting(logger, containerId, CommandRunner.Describe(runtimePath, args));
        try
        {
            return Process.Start(psi) ?? throw new RuntimeException(RuntimeErrorKind.Internal, $"could not start {runtimePath} exec in container {containerId}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new RuntimeException(RuntimeErrorKind.Internal, $"could not start {psi.FileName} for exec in container {containerId}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Waits for the runtime to exit. `runc exec` only exits once the process's output pipes reach EOF, so a
    /// background child holding them keeps the session open (as with the kubelet's other runtimes) until the
    /// client goes away; then the exec'd process and everything in its process group are killed, which ends
    /// the runtime too.
    /// </summary>
    private async Task WaitOrKillAsync(Process process, string pidFile, string containerId, CancellationToken ct)
    {
        using var watch = new CancellationTokenSource();
        // Everything the exec started is younger than the runtime that started it.
        var runtimeStart = ProcessStat.TryRead(process.Id)?.StartTime;
        var identity = IdentifyExecProcessAsync(process, pidFile, watch.Token);
        try
        {
            await process.WaitForExitAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            LogCancelled(logger, containerId);
            using var grace = new CancellationTokenSource(KillGrace);
            ProcessStat? seen = null;
            try { seen = await identity.WaitAsync(grace.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { }
            if (seen is { } exec) KillExecProcess(exec);
            else if (ConmonFiles.ReadPid(pidFile) is { } gone && runtimeStart is { } started) KillOrphanedGroup(gone, started);
            try { await process.WaitForExitAsync(grace.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { CommandRunner.TryKill(process); }
            throw;
        }
        finally
        {
            await watch.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The exec'd process as first seen through the runtime's pid file, start time included: by the time it
    /// has to be killed it may be gone and its pid reused.
    /// </summary>
    private static async Task<ProcessStat?> IdentifyExecProcessAsync(Process runtime, string pidFile, CancellationToken ct)
    {
        try
        {
            while (!runtime.HasExited)
            {
                if (ConmonFiles.ReadPid(pidFile) is { } pid && ProcessStat.TryRead(pid) is { } stat) return stat;
                await Task.Delay(10, ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) { }
        return null;
    }

    /// <summary>
    /// Kills the exec'd process and, when it leads its own process group (runc makes it a session leader), every
    /// member of that group started since: its background children, even after the leader itself has exited.
    /// </summary>
    private static void KillExecProcess(ProcessStat exec)
    {
        if (exec.ProcessGroup == exec.Pid)
        {
            foreach (var p in ProcessStat.ReadAll())
            {
                if (p.ProcessGroup == exec.ProcessGroup && p.StartTime >= exec.StartTime && !p.IsZombie && ProcessStat.StillSame(p))
                    Libc.Kill(p.Pid, SigKill);
            }
        }
        if (ProcessStat.StillSame(exec)) Libc.Kill(exec.Pid, SigKill);
    }

    /// <summary>
    /// The exec'd process exited before it was ever seen, but its background children may still hold the output
    /// open in its process group. The pid came from a file and nothing of it was recorded, so the group is not
    /// signalled blindly: see <see cref="OrphanedGroupMembers"/>. Each member's start time is re-read before its kill.
    /// </summary>
    private static void KillOrphanedGroup(int execPid, ulong runtimeStart)
    {
        foreach (var p in OrphanedGroupMembers(ProcessStat.ReadAll(), execPid, runtimeStart))
        {
            if (ProcessStat.StillSame(p)) Libc.Kill(p.Pid, SigKill);
        }
    }

    /// <summary>
    /// The members of the process group named after the vanished exec'd process that can be its children. While a
    /// group exists the kernel does not hand its id out as a pid; a live process with that pid therefore means the
    /// group ended and the pid was reused (had it been the exec'd process, it would have been identified), and then
    /// nothing is returned. Members older than the runtime that started the exec cannot be its children either.
    /// </summary>
    internal static List<ProcessStat> OrphanedGroupMembers(IReadOnlyList<ProcessStat> all, int execPid, ulong runtimeStart)
    {
        if (execPid <= 1 || all.Any(p => p.Pid == execPid && !p.IsZombie)) return [];
        return all.Where(p => p.ProcessGroup == execPid && !p.IsZombie && p.StartTime >= runtimeStart).ToList();
    }

    private static async Task CopyStdinAsync(Stream client, Stream process, bool closeAtEnd, CancellationToken ct)
    {
        try
        {
            await new StreamPump().CopyAsync(client, process, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) { }
        finally
        {
            if (closeAtEnd) await CloseQuietly(process).ConfigureAwait(false);
        }
    }

    private async Task ResizeAsync(System.Threading.Channels.ChannelReader<TerminalSize> sizes, Microsoft.Win32.SafeHandles.SafeFileHandle master, string containerId, CancellationToken ct)
    {
        try
        {
            await foreach (var size in sizes.ReadAllAsync(ct).ConfigureAwait(false))
            {
                if (size.Width == 0 || size.Height == 0) continue;
                try { Libc.SetWindowSize(master, size.Height, size.Width); }
                catch (SyscallException e) { LogResizeFailed(logger, containerId, e.Message); }
            }
        }
        catch (OperationCanceledException) { }
    }

    private static async Task CloseQuietly(Stream stream)
    {
        try { await stream.DisposeAsync().ConfigureAwait(false); }
        catch (IOException) { }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Streaming exec in container {ContainerId}: {CommandLine}")]
    private static partial void LogStarting(ILogger logger, string containerId, string commandLine);

    [LoggerMessage(Level = LogLevel.Information, Message = "Streaming exec in container {ContainerId} cancelled; killing the exec'd process")]
    private static partial void LogCancelled(ILogger logger, string containerId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Resizing the exec terminal of container {ContainerId} failed: {Error}")]
    private static partial void LogResizeFailed(ILogger logger, string containerId, string error);
}
