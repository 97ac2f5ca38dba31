using System.Diagnostics;
using System.Globalization;
using System.Text;
using Crisp.Interop;
using Crisp.Runtime.Api;
using Microsoft.Extensions.Logging;

namespace Crisp.Runtime.Handlers;

/// <summary>
/// Starts one conmon per container. conmon double-forks so the container outlives crispd, runs
/// `&lt;runtime&gt; create`, and reports the result as one JSON line on the sync pipe whose fd it finds in
/// _OCI_SYNCPIPE. .NET cannot hand an extra fd to a child, so the pipe is a fifo that a tiny sh opens as fd 3
/// before exec'ing conmon.
/// </summary>
internal sealed partial class ConmonLauncher(string conmonPath, ILogger logger)
{
    internal const string SyncFifoName = "sync.fifo";
    internal const string ConmonLogName = "conmon.log";
    internal const string ContainerPidFileName = "pidfile";
    internal const string ConmonPidFileName = "conmon.pid";

    private static readonly TimeSpan CreateTimeout = TimeSpan.FromMinutes(4);

    public async Task<int> CreateAsync(ContainerLaunch launch, string runtimePath, IReadOnlyList<string> runtimeArgs, CancellationToken ct)
    {
        Directory.CreateDirectory(launch.PersistDir);
        Directory.CreateDirectory(launch.ExitDir);
        var logDir = Path.GetDirectoryName(launch.LogPath);
        if (!string.IsNullOrEmpty(logDir)) Directory.CreateDirectory(logDir);

        var fifo = Path.Combine(launch.PersistDir, SyncFifoName);
        var conmonLog = Path.Combine(launch.PersistDir, ConmonLogName);
        File.Delete(fifo);
        File.Delete(Path.Combine(launch.PersistDir, ContainerPidFileName));
        Libc.MkFifo(fifo, 0x180 /* 0600 */);

        // O_RDWR on our side: the writer's open never blocks, and reads never see EOF, so a stuck read can be
        // released by writing a newline ourselves.
        using var fifoHandle = Libc.Open(fifo, Libc.O_RDWR);
        using var fifoStream = new FileStream(fifoHandle, FileAccess.ReadWrite, bufferSize: 0);

        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("exec \"$0\" \"$@\" 3>\"$CRISP_SYNC_FIFO\" </dev/null >>\"$CRISP_CONMON_LOG\" 2>&1");
        psi.ArgumentList.Add(conmonPath);
        foreach (var a in BuildArgs(launch, runtimePath, runtimeArgs)) psi.ArgumentList.Add(a);
        psi.Environment["_OCI_SYNCPIPE"] = "3";
        psi.Environment["CRISP_SYNC_FIFO"] = fifo;
        psi.Environment["CRISP_CONMON_LOG"] = conmonLog;
        psi.Environment.Remove("NOTIFY_SOCKET");
        psi.Environment.Remove("LISTEN_FDS");

        LogStarting(logger, launch.ContainerId, CommandRunner.Describe(conmonPath, psi.ArgumentList.Skip(3)));

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(CreateTimeout);
        var readLine = Task.Run(() => ReadLine(fifoStream), CancellationToken.None);

        using (var parent = Process.Start(psi) ?? throw new RuntimeException(RuntimeErrorKind.Internal, $"could not start conmon for container {launch.ContainerId}"))
        {
            // conmon's first process exits as soon as it has forked the monitor; non-zero means it never got going.
            try
            {
                await parent.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                CommandRunner.TryKill(parent);
                Release(fifoStream);
                await readLine.ConfigureAwait(false);
                ct.ThrowIfCancellationRequested();
                throw new RuntimeException(RuntimeErrorKind.DeadlineExceeded, $"conmon for container {launch.ContainerId} did not start");
            }
            if (parent.ExitCode != 0)
            {
                Release(fifoStream);
                await readLine.ConfigureAwait(false);
                throw new RuntimeException(RuntimeErrorKind.Internal,
                    $"conmon for container {launch.ContainerId} exited with {parent.ExitCode}: {ReadTail(conmonLog)}");
            }
        }

        string line;
        try
        {
            line = await readLine.WaitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Release(fifoStream);
            KillConmon(launch.PersistDir);
            ct.ThrowIfCancellationRequested();
            throw new RuntimeException(RuntimeErrorKind.DeadlineExceeded,
                $"runtime create of container {launch.ContainerId} did not finish within {CreateTimeout.TotalSeconds:0}s");
        }
        finally
        {
            TryDelete(fifo);
        }

        var message = ConmonSyncMessage.TryParse(line);
        if (message is null)
            throw new RuntimeException(RuntimeErrorKind.Internal,
                $"conmon for container {launch.ContainerId} reported nothing usable ({line.Trim()}): {ReadTail(conmonLog)}");
        if (message.Data <= 0)
            throw new RuntimeException(RuntimeErrorKind.Internal,
                $"creating container {launch.ContainerId} failed: {ConmonSyncMessage.CleanRuntimeError(message.Message)}");
        return message.Data;
    }

    private static List<string> BuildArgs(ContainerLaunch launch, string runtimePath, IReadOnlyList<string> runtimeArgs)
    {
        var args = new List<string>
        {
            "--api-version", "1",
            "-c", launch.ContainerId,
            "-u", launch.ContainerId,
            "-n", launch.Name ?? launch.ContainerId,
            "-r", runtimePath,
            "-b", launch.BundlePath,
            "-p", Path.Combine(launch.PersistDir, ContainerPidFileName),
            "-P", Path.Combine(launch.PersistDir, ConmonPidFileName),
            "--persist-dir", launch.PersistDir,
            "--exit-dir", launch.ExitDir,
            "--socket-dir-path", launch.PersistDir,
            "-l", "k8s-file:" + launch.LogPath,
            "--log-level", "error",
        };
        foreach (var ra in runtimeArgs) { args.Add("--runtime-arg"); args.Add(ra); }
        if (launch.LogSizeMax is > 0)
        {
            args.Add("--log-size-max");
            args.Add(launch.LogSizeMax.Value.ToString(CultureInfo.InvariantCulture));
        }
        if (launch.Tty) args.Add("-t");
        if (launch.Stdin)
        {
            args.Add("-i");
            if (!launch.StdinOnce) args.Add("--leave-stdin-open");
        }
        return args;
    }

    private static string ReadLine(FileStream stream)
    {
        var bytes = new List<byte>(128);
        var buf = new byte[256];
        while (true)
        {
            int n;
            try { n = stream.Read(buf, 0, buf.Length); }
            catch (IOException) { break; }
            catch (ObjectDisposedException) { break; }
            if (n <= 0) break;
            for (var i = 0; i < n; i++)
            {
                if (buf[i] == (byte)'\n') return Encoding.UTF8.GetString(bytes.ToArray());
                bytes.Add(buf[i]);
            }
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    private static void Release(FileStream stream)
    {
        try { stream.Write("\n"u8); }
        catch (IOException) { }
        catch (ObjectDisposedException) { }
    }

    private void KillConmon(string persistDir)
    {
        var pid = ConmonFiles.ReadPid(Path.Combine(persistDir, ConmonPidFileName));
        if (pid is > 0)
        {
            LogKillingConmon(logger, pid.Value);
            Libc.Kill(pid.Value, 9);
        }
    }

    internal static string ReadTail(string path)
    {
        try
        {
            var text = File.ReadAllText(path).Trim();
            return text.Length == 0 ? "(conmon wrote nothing)" : (text.Length > 2000 ? text[^2000..] : text);
        }
        catch (IOException) { return "(no conmon log)"; }
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Starting conmon for container {ContainerId}: {CommandLine}")]
    private static partial void LogStarting(ILogger logger, string containerId, string commandLine);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Killing conmon {Pid} after create timed out")]
    private static partial void LogKillingConmon(ILogger logger, int pid);
}
