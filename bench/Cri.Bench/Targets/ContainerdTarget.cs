using System.Diagnostics;
using Crisp.E2E.Daemon;
using Crisp.E2E.Fixtures;

namespace Crisp.Bench;

/// <summary>
/// The reference: Debian's containerd with its CRI plugin, started by the bench on a private root, state, socket and
/// CNI config dir under /tmp (nothing of a system containerd is used or touched), and stopped with its shims after
/// the run. Its configuration is the shipped default except what a private instance on this host needs.
/// </summary>
public sealed class ContainerdTarget : CriTarget
{
    public const string Binary = "/usr/bin/containerd";

    /// <summary>crispd's default <c>image.max_concurrent_downloads</c>.</summary>
    private const int CrispDefaultConcurrentDownloads = 4;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly string _directory;
    private readonly ProcessTranscript _transcript = new();
    private readonly string _label;
    private Process? _process;
    private CriClient? _client;

    private ContainerdTarget(string directory, string label)
    {
        _directory = directory;
        _label = label;
    }

    public override string Label => _label;

    public override CriClient Client => _client ?? throw new InvalidOperationException("containerd is not running");

    public override int? ProcessId => _process is { HasExited: false } p ? p.Id : null;

    public override string LogDirectory => Path.Combine(_directory, "logs");

    private string SocketPath => Path.Combine(_directory, "containerd.sock");

    private string ConfigPath => Path.Combine(_directory, "config.toml");

    public static async Task<ContainerdTarget> StartAsync(string label, string? sandboxImage)
    {
        var directory = Directory.CreateTempSubdirectory($"crisp-bench-containerd-{Environment.ProcessId}-").FullName;
        ExitCleanup.TrackDirectory(directory);
        var target = new ContainerdTarget(directory, label);
        try
        {
            Directory.CreateDirectory(target.LogDirectory);
            Directory.CreateDirectory(Path.Combine(directory, "cni"));
            // The same loopback-only network crispd gets from the e2e fixture, so both report NetworkReady alike.
            await File.WriteAllTextAsync(Path.Combine(directory, "cni", "00-bench.conflist"), DaemonOptions.LoopbackOnlyCniConfig);
            await File.WriteAllTextAsync(target.ConfigPath, target.Config(sandboxImage));
            await target.StartProcessAsync();
            return target;
        }
        catch
        {
            await target.DisposeAsync();
            throw;
        }
    }

    // restrict_oom_score_adj: root here lacks CAP_SYS_RESOURCE, so the sandbox's default -998 must be clamped to
    // containerd's own score (crisp clamps the same way). The opt plugin would otherwise write to /opt/containerd.
    // max_concurrent_downloads: crispd's default (containerd's is 3), so the pull rows compare the two pipelines
    // rather than how many layers each fetches at once.
    private string Config(string? sandboxImage) => $"""
        version = 2
        root = "{Path.Combine(_directory, "root")}"
        state = "{Path.Combine(_directory, "state")}"

        [grpc]
          address = "{SocketPath}"

        [ttrpc]
          address = "{Path.Combine(_directory, "containerd.sock.ttrpc")}"

        [debug]
          address = ""

        [metrics]
          address = ""

        [plugins."io.containerd.internal.v1.opt"]
          path = "{Path.Combine(_directory, "opt")}"

        [plugins."io.containerd.grpc.v1.cri"]
          sandbox_image = "{sandboxImage ?? "registry.k8s.io/pause:3.6"}"
          restrict_oom_score_adj = true
          max_concurrent_downloads = {CrispDefaultConcurrentDownloads}
          stream_server_address = "127.0.0.1"
          stream_server_port = "0"

        [plugins."io.containerd.grpc.v1.cri".cni]
          bin_dir = "/usr/lib/cni"
          conf_dir = "{Path.Combine(_directory, "cni")}"

        """;

    private async Task StartProcessAsync()
    {
        var info = new ProcessStartInfo(Binary);
        info.ArgumentList.Add("--config");
        info.ArgumentList.Add(ConfigPath);
        var process = _transcript.Start(info);
        _process = process;
        _client = new CriClient(SocketPath);
        await ServingProbe.WaitAsync("containerd", SocketPath, () => Client, () => process.HasExited, () => _transcript.Text, StartTimeout);
    }

    public override async Task KillAsync()
    {
        if (_process is null || _process.HasExited) return;
        _process.Kill();
        await _process.WaitForExitAsync();
        _client?.Dispose();
        _client = null;
    }

    public override async Task RestartAsync()
    {
        if (_process is { HasExited: false }) await StopAsync();
        await StartProcessAsync();
    }

    private async Task StopAsync()
    {
        if (_process is null || _process.HasExited) return;
        using (var term = Process.Start("kill", ["-15", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) await term.WaitForExitAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _client?.Dispose();
        _client = null;
    }

    /// <summary>
    /// Stops containerd, then kills what outlives it: shims (they name this instance's socket on their command line)
    /// and the containers below them, so a failed run leaves no process, mount or directory behind.
    /// </summary>
    public override async ValueTask DisposeAsync()
    {
        await StopAsync();
        var table = ProcessTable.Snapshot();
        var shims = table.Where(p => p.Command.StartsWith("containerd-shim", StringComparison.Ordinal)
            && p.Arguments.Any(a => a.StartsWith(_directory, StringComparison.Ordinal))).Select(p => p.Pid).ToList();
        foreach (var pid in ProcessTable.WithDescendants(table, shims))
        {
            try
            {
                Process.GetProcessById(pid).Kill();
            }
            catch (ArgumentException)
            {
                // Already gone.
            }
            catch (InvalidOperationException)
            {
            }
        }
        if (shims.Count > 0) await Task.Delay(500);
        LeftoverCleanup.UnmountUnder(_directory);
        try
        {
            Directory.Delete(_directory, recursive: true);
            ExitCleanup.UntrackDirectory(_directory);
        }
        catch (IOException)
        {
            // A mount still busy: the stale-directory sweep of a later run takes it.
        }
    }
}

/// <summary>Starts the reference containerd, or says why there is none.</summary>
public sealed class ContainerdLauncher : ICriTargetLauncher
{
    private ContainerdLauncher(string label) => Label = label;

    public string Label { get; }

    public bool StartsFresh => true;

    public async Task<CriTarget> StartAsync(string? sandboxImage, CancellationToken cancellationToken) => await ContainerdTarget.StartAsync(Label, sandboxImage);

    /// <summary>The launcher, or null and the reason the reference column stays empty.</summary>
    public static async Task<(ContainerdLauncher? Launcher, string? Unavailable)> FindAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(ContainerdTarget.Binary))
            return (null, $"{ContainerdTarget.Binary} not installed (apt-get install containerd)");
        var version = await ToolRunner.RunAsync(ContainerdTarget.Binary, ["--version"], cancellationToken);
        if (!version.Succeeded) return (null, $"containerd --version failed: {version.StandardError.Trim()}");
        // "containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3"
        var words = version.StandardOutput.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return (new ContainerdLauncher($"containerd {(words.Length > 2 ? words[2].Split('~')[0] : "?")}"), null);
    }
}
