using System.Globalization;
using Crisp.Interop;
using Crisp.Runtime.Api;
using Crisp.Runtime.Host;
using Microsoft.Extensions.Logging;

namespace Crisp.Runtime.Handlers;

/// <summary>
/// Starts conmon, one per container (and one per ExecSync). conmon double-forks so the container outlives crispd,
/// runs the runtime, and reports over the sync pipe whose fd it finds in _OCI_SYNCPIPE. conmon is spawned directly
/// (posix_spawn, <see cref="ChildSpawner"/>): it opens the sync fifo as fd 3 and /dev/null as stdin itself, and its
/// stdout and stderr are a log file or crispd's pipes; no shell runs in between.
/// </summary>
internal sealed partial class ConmonLauncher(string conmonPath, ILogger logger)
{
    internal const string SyncFifoName = "sync.fifo";
    internal const string ConmonLogName = "conmon.log";
    internal const string ContainerPidFileName = "pidfile";
    internal const string ConmonPidFileName = "conmon.pid";

    private static readonly TimeSpan CreateTimeout = TimeSpan.FromMinutes(4);

    /// <summary>The fd conmon's sync pipe is at in conmon.</summary>
    private const int SyncFd = 3;

    /// <summary>
    /// Every conmon starts under umask 0022 (crispd's own 0077 would make the mount destinations runc creates in a
    /// rootfs 0700, untraversable by a non-root container process), from the one thread that owns that umask.
    /// </summary>
    private static readonly Lazy<ChildSpawner> Spawner = new(() => new ChildSpawner(FileModes.ContainerRuntimeUmask, "conmon spawner"));

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
        using var parent = await LaunchAsync(containerId, args, sync, conmonLog, passOutput: false).ConfigureAwait(false);
        await WaitForMonitorAsync(parent.Process, containerId, () => ReadTail(conmonLog), deadline, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Starts conmon's first process. With <paramref name="passOutput"/> (conmon's `-l passthrough`) its stdout and
    /// stderr are pipes the caller reads from the returned parent: the runtime and the exec'd process inherit them,
    /// so output reaches crispd directly and never a file; conmon's own early errors arrive on stderr too. Otherwise
    /// conmon's stdio goes to <paramref name="conmonLog"/>, never to crispd's pipes. conmon finds the sync fifo as
    /// fd 3 (_OCI_SYNCPIPE), which is why it is spawned here rather than by Process, which passes no fd beyond 2.
    /// </summary>
    internal async Task<ConmonParent> LaunchAsync(string containerId, IReadOnlyList<string> args, ConmonSyncChannel sync, string conmonLog, bool passOutput)
    {
        var argv = new List<string>(args.Count + 1) { conmonPath };
        argv.AddRange(args);
        var fds = new List<ChildFd>
        {
            new ChildFd.OpenPath(0, "/dev/null", Libc.O_RDONLY),
            new ChildFd.OpenPath(SyncFd, sync.FifoPath, Libc.O_WRONLY),
        };
        LogStarting(logger, containerId, CommandRunner.Describe(conmonPath, args));
        if (!passOutput)
        {
            fds.Add(new ChildFd.OpenPath(1, conmonLog, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_APPEND, (uint)FileModes.PrivateFile));
            fds.Add(new ChildFd.OpenPath(2, conmonLog, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_APPEND, (uint)FileModes.PrivateFile));
            return new ConmonParent(await SpawnAsync(containerId, argv, fds).ConfigureAwait(false), null, null);
        }

        var (stdoutRead, stdoutWrite) = Libc.Pipe();
        var (stderrRead, stderrWrite) = Libc.Pipe();
        // crispd's copies of the write ends close right after the spawn, so the read ends see EOF once conmon, the
        // runtime and the exec'd process (and what it left running) have all let go of them.
        using (stdoutWrite)
        using (stderrWrite)
        {
            fds.Add(new ChildFd.Duplicate(1, stdoutWrite));
            fds.Add(new ChildFd.Duplicate(2, stderrWrite));
            ChildProcess process;
            try
            {
                process = await SpawnAsync(containerId, argv, fds).ConfigureAwait(false);
            }
            catch
            {
                stdoutRead.Dispose();
                stderrRead.Dispose();
                throw;
            }
            return new ConmonParent(process, ConmonParent.ReadEnd(stdoutRead), ConmonParent.ReadEnd(stderrRead));
        }
    }

    private async Task<ChildProcess> SpawnAsync(string containerId, List<string> argv, List<ChildFd> fds)
    {
        try
        {
            return await Spawner.Value.SpawnAsync(conmonPath, argv, ChildEnvironment(), fds).ConfigureAwait(false);
        }
        catch (SyscallException e)
        {
            throw new RuntimeException(RuntimeErrorKind.Internal, $"could not start conmon for container {containerId}: {e.Message}", e);
        }
    }

    /// <summary>crispd's environment for conmon, less what would make it talk to crispd's own supervisor.</summary>
    private static List<string> ChildEnvironment()
    {
        var environment = new List<string> { $"_OCI_SYNCPIPE={SyncFd}" };
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            var name = (string)entry.Key;
            if (name is "_OCI_SYNCPIPE" or "NOTIFY_SOCKET" or "LISTEN_FDS" or "LISTEN_PID" or "LISTEN_FDNAMES") continue;
            environment.Add($"{name}={entry.Value}");
        }
        return environment;
    }

    /// <summary>Waits for conmon's first process to hand over to the monitor it forked; non-zero means it never got going.</summary>
    internal static async Task WaitForMonitorAsync(ChildProcess parent, string containerId, Func<string> diagnostics, CancellationToken deadline, CancellationToken ct)
    {
        int? exitCode;
        try
        {
            exitCode = await parent.Exited.WaitAsync(deadline).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            parent.Kill();
            ct.ThrowIfCancellationRequested();
            throw new RuntimeException(RuntimeErrorKind.DeadlineExceeded, $"conmon for container {containerId} did not start");
        }
        // null: reaped by someone else, so its code is unknown; the sync pipe still tells whether the runtime succeeded.
        if (exitCode is { } code && code != 0)
            throw new RuntimeException(RuntimeErrorKind.Internal,
                $"conmon for container {containerId} exited with {code}: {diagnostics()}");
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
