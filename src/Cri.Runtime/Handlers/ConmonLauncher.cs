using System.Diagnostics;
using System.Globalization;
using Crisp.Interop;
using Crisp.Runtime.Api;
using Crisp.Runtime.Host;
using Microsoft.Extensions.Logging;

namespace Crisp.Runtime.Handlers;

/// <summary>
/// Starts conmon, one per container (and one per ExecSync). conmon double-forks so the container outlives crispd,
/// runs the runtime, and reports over the sync pipe whose fd it finds in _OCI_SYNCPIPE. .NET cannot hand an
/// extra fd to a child, so a tiny sh opens the sync fifo as fd 3 (and points conmon's own stdio at a log file,
/// never at crispd's pipes) before exec'ing conmon.
/// </summary>
internal sealed partial class ConmonLauncher(string conmonPath, ILogger logger)
{
    internal const string SyncFifoName = "sync.fifo";
    internal const string ConmonLogName = "conmon.log";
    internal const string ContainerPidFileName = "pidfile";
    internal const string ConmonPidFileName = "conmon.pid";

    private static readonly TimeSpan CreateTimeout = TimeSpan.FromMinutes(4);

    public string ConmonPath => conmonPath;

    /// <summary>Creates the container; returns its init pid once the runtime reported it Created.</summary>
    public async Task<int> CreateAsync(ContainerLaunch launch, string runtimePath, IReadOnlyList<string> runtimeArgs, CancellationToken ct)
    {
        OwnedDirectory.Ensure(launch.PersistDir);
        OwnedDirectory.Ensure(launch.ExitDir);
        if (launch.LogPath.Length > 0 && Path.GetDirectoryName(launch.LogPath) is { Length: > 0 } logDir)
            OwnedDirectory.CreateIfMissing(logDir, FileModes.PrivateDirectory);
        File.Delete(Path.Combine(launch.PersistDir, ContainerPidFileName));
        var conmonLog = Path.Combine(launch.PersistDir, ConmonLogName);

        using var sync = new ConmonSyncChannel(Path.Combine(launch.PersistDir, SyncFifoName));
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(CreateTimeout);

        await StartAsync(launch.ContainerId, BuildCreateArgs(launch, runtimePath, runtimeArgs), sync, conmonLog, deadline.Token, ct).ConfigureAwait(false);
        // Identified now, while it surely runs: by the time a stuck create is given up the pid may be someone else's.
        var conmon = ConmonFiles.IdentifyConmon(launch.PersistDir, launch.ContainerId);

        string line;
        try
        {
            line = await sync.ReadLineAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            KillConmon(conmon);
            ct.ThrowIfCancellationRequested();
            throw new RuntimeException(RuntimeErrorKind.DeadlineExceeded,
                $"runtime create of container {launch.ContainerId} did not finish within {CreateTimeout.TotalSeconds:0}s");
        }

        var message = ConmonSyncMessage.TryParse(line)
            ?? throw new RuntimeException(RuntimeErrorKind.Internal,
                $"conmon for container {launch.ContainerId} reported nothing usable ({line.Trim()}): {ReadTail(conmonLog)}");
        if (message.Data <= 0)
            throw new RuntimeException(RuntimeErrorKind.Internal,
                $"creating container {launch.ContainerId} failed: {ConmonSyncMessage.CleanRuntimeError(message.Message)}");
        return message.Data;
    }

    /// <summary>Runs conmon's first process, which exits as soon as it has forked the monitor; non-zero means it never got going.</summary>
    internal async Task StartAsync(string containerId, IReadOnlyList<string> args, ConmonSyncChannel sync, string conmonLog, CancellationToken deadline, CancellationToken ct)
    {
        using var parent = Launch(containerId, args, sync, conmonLog, passOutput: false);
        await WaitForMonitorAsync(parent, containerId, () => ReadTail(conmonLog), deadline, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Starts conmon's first process. With <paramref name="passOutput"/> (conmon's `-l passthrough`) its stdout and
    /// stderr are pipes the caller reads from the returned process: the runtime and the exec'd process inherit them,
    /// so output reaches crispd directly and never a file; conmon's own early errors arrive on stderr too. Otherwise
    /// conmon's stdio goes to <paramref name="conmonLog"/>, never to crispd's pipes.
    /// </summary>
    internal Process Launch(string containerId, IReadOnlyList<string> args, ConmonSyncChannel sync, string conmonLog, bool passOutput)
    {
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardOutput = passOutput, RedirectStandardError = passOutput };
        psi.ArgumentList.Add("-c");
        // crispd's own umask (0077) would make the mount destinations runc creates in the rootfs 0700.
        var umask = $"umask {Convert.ToString(FileModes.ContainerRuntimeUmask, 8)}; ";
        psi.ArgumentList.Add(umask + (passOutput
            ? "exec \"$0\" \"$@\" 3>\"$CRISP_SYNC_FIFO\" </dev/null"
            : "exec \"$0\" \"$@\" 3>\"$CRISP_SYNC_FIFO\" </dev/null >>\"$CRISP_CONMON_LOG\" 2>&1"));
        psi.ArgumentList.Add(conmonPath);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["_OCI_SYNCPIPE"] = "3";
        psi.Environment["CRISP_SYNC_FIFO"] = sync.FifoPath;
        psi.Environment["CRISP_CONMON_LOG"] = conmonLog;
        psi.Environment.Remove("NOTIFY_SOCKET");
        psi.Environment.Remove("LISTEN_FDS");
        psi.Environment.Remove("LISTEN_PID");

        LogStarting(logger, containerId, CommandRunner.Describe(conmonPath, args));
        return Process.Start(psi)
            ?? throw new RuntimeException(RuntimeErrorKind.Internal, $"could not start conmon for container {containerId}");
    }

    /// <summary>Waits for conmon's first process to hand over to the monitor it forked; non-zero means it never got going.</summary>
    internal static async Task WaitForMonitorAsync(Process parent, string containerId, Func<string> diagnostics, CancellationToken deadline, CancellationToken ct)
    {
        try
        {
            await parent.WaitForExitAsync(deadline).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            CommandRunner.TryKill(parent);
            ct.ThrowIfCancellationRequested();
            throw new RuntimeException(RuntimeErrorKind.DeadlineExceeded, $"conmon for container {containerId} did not start");
        }
        if (parent.ExitCode != 0)
            throw new RuntimeException(RuntimeErrorKind.Internal,
                $"conmon for container {containerId} exited with {parent.ExitCode}: {diagnostics()}");
    }

    private static List<string> BuildCreateArgs(ContainerLaunch launch, string runtimePath, IReadOnlyList<string> runtimeArgs)
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
            // A pod without log_directory has nowhere to log; conmon then still drains the output.
            "-l", launch.LogPath.Length > 0 ? "k8s-file:" + launch.LogPath : "none:",
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

    private void KillConmon(ProcessIdentity? conmon)
    {
        if (conmon is not { } identity) return;
        LogKillingConmon(logger, identity.Pid);
        identity.Signal(9);
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

    [LoggerMessage(Level = LogLevel.Debug, Message = "Starting conmon for container {ContainerId}: {CommandLine}")]
    private static partial void LogStarting(ILogger logger, string containerId, string commandLine);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Killing conmon {Pid} after it timed out")]
    private static partial void LogKillingConmon(ILogger logger, int pid);
}
