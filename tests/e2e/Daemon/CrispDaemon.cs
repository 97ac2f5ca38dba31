using System.Diagnostics;
using Crisp.Cri.V1;
using Crisp.E2E.Fixtures;

namespace Crisp.E2E.Daemon;

/// <summary>
/// The real crispd binary on a private socket, root and state dir, as a test fixture.
/// It can be stopped gracefully, killed with SIGKILL and started again on the same state,
/// which is how restart-safety tests observe recovery.
/// </summary>
public sealed class CrispDaemon : IAsyncDisposable
{
    private readonly DaemonOptions _options;
    private readonly ProcessTranscript _transcript = new();
    private Process? _process;
    private CriClient? _client;

    public string BaseDirectory { get; }
    public string RootDirectory => Path.Combine(BaseDirectory, "root");
    public string StateDirectory => Path.Combine(BaseDirectory, "state");
    public string SocketPath => _options.SocketPath ?? Path.Combine(BaseDirectory, "state", "crisp.sock");
    public string ConfigPath => Path.Combine(BaseDirectory, "crisp.toml");
    public string RegistriesConfPath => Path.Combine(BaseDirectory, "registries.conf");
    public string CniConfDir { get; }
    public string LogDirectory => Path.Combine(BaseDirectory, "logs");

    /// <summary>
    /// The kubelet's part in these tests: pods get a cgroup_parent below this path, and disposing the daemon removes
    /// what is left of it, since crisp leaves the kubelet's pod cgroups alone.
    /// </summary>
    public string PodCgroupRoot => "/crisp-e2e/" + Path.GetFileName(BaseDirectory);

    public RuntimeService.RuntimeServiceClient Runtime => Client.Runtime;
    public ImageService.ImageServiceClient Images => Client.Images;
    public CriClient Client => _client ?? throw new InvalidOperationException("crispd is not running");
    public int? ProcessId => _process is { HasExited: false } p ? p.Id : null;

    /// <summary>Everything crispd printed so far (stdout and stderr), for assertions and failure messages.</summary>
    public string Output => _transcript.Text;

    private CrispDaemon(DaemonOptions options)
    {
        _options = options;
        BaseDirectory = Directory.CreateTempSubdirectory("crisp-e2e-").FullName;
        CniConfDir = options.CniConfDir ?? Path.Combine(BaseDirectory, "cni");
        Directory.CreateDirectory(CniConfDir);
        if (options.CniConfDir is null && options.CniConfig is not null)
            File.WriteAllText(Path.Combine(CniConfDir, "00-e2e.conflist"), options.CniConfig);
        Directory.CreateDirectory(LogDirectory);
        File.WriteAllText(RegistriesConfPath, options.RegistriesConf ?? "");
        File.WriteAllText(ConfigPath, GenerateConfig());
    }

    public static async Task<CrispDaemon> StartAsync(DaemonOptions? options = null)
    {
        var daemon = new CrispDaemon(options ?? new DaemonOptions());
        try
        {
            await daemon.StartProcessAsync();
            return daemon;
        }
        catch
        {
            await daemon.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs crispd with this fixture's config and arbitrary arguments, to completion (for start-failure tests).</summary>
    public static async Task<(int ExitCode, string Output)> RunToExitAsync(IEnumerable<string> arguments, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(DaemonBinary.Path) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"crispd {string.Join(' ', info.ArgumentList)} did not exit within {timeout}");
        }
        return (process.ExitCode, await stdout + await stderr);
    }

    private string GenerateConfig() => $"""
        root = "{RootDirectory}"
        state_dir = "{StateDirectory}"
        log_level = "debug"

        [grpc]
        socket = "{SocketPath}"
        shutdown_timeout_seconds = 5

        [image]
        registries_conf = "{RegistriesConfPath}"
        registries_conf_dir = "{Path.Combine(BaseDirectory, "registries.conf.d")}"

        [network]
        cni_conf_dir = "{CniConfDir}"

        [metrics]
        prometheus_address = ""

        """ + _options.ExtraToml;

    private async Task StartProcessAsync()
    {
        var commandLine = _options.CommandLine ?? [DaemonBinary.Path, "--config", ConfigPath];
        var info = new ProcessStartInfo(commandLine[0]);
        foreach (var argument in commandLine.Skip(1)) info.ArgumentList.Add(argument);
        foreach (var flag in _options.Flags) info.ArgumentList.Add(flag);
        foreach (var (name, value) in _options.Environment) info.Environment[name] = value;

        _process = _transcript.Start(info);
        _client = new CriClient(SocketPath);

        if (_options.WaitUntilServing) await WaitUntilServingAsync(TimeSpan.FromSeconds(60));
    }

    /// <summary>Waits until Version answers on the socket; fails with crispd's output when it exits first.</summary>
    public async Task WaitUntilServingAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (_process!.HasExited)
            {
                // HasExited can turn true before the asynchronous readers delivered the last lines; WaitForExitAsync
                // also waits for both redirected streams to reach EOF, so the reason crispd printed is in Output.
                await _process.WaitForExitAsync();
                throw new InvalidOperationException($"crispd exited with {_process.ExitCode} before serving:\n{Output}");
            }
            if (File.Exists(SocketPath))
            {
                try
                {
                    await Runtime.VersionAsync(new VersionRequest(), deadline: DateTime.UtcNow.AddSeconds(2));
                    return;
                }
                catch (Grpc.Core.RpcException) when (DateTime.UtcNow < deadline)
                {
                }
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"crispd did not answer on {SocketPath} within {timeout}:\n{Output}");
            await Task.Delay(50);
        }
    }

    /// <summary>SIGTERM and wait: the graceful path.</summary>
    public async Task StopAsync(TimeSpan? timeout = null)
    {
        if (_process is null || _process.HasExited) return;
        Signal(_process.Id, 15);
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
            throw new TimeoutException($"crispd did not stop within its timeout after SIGTERM:\n{Output}");
        }
        finally
        {
            _client?.Dispose();
            _client = null;
        }
    }

    /// <summary>SIGKILL: crispd gets no chance to clean up, as in a crash or OOM kill.</summary>
    public async Task KillAsync()
    {
        if (_process is null || _process.HasExited) return;
        Signal(_process.Id, 9);
        await _process.WaitForExitAsync();
        _client?.Dispose();
        _client = null;
    }

    /// <summary>Starts crispd again on the same root, state and socket.</summary>
    public async Task RestartAsync()
    {
        if (_process is { HasExited: false }) await StopAsync();
        await StartProcessAsync();
    }

    /// <summary>SIGHUP: crispd re-reads its configuration files.</summary>
    public void Reload() => Signal(_process?.Id ?? throw new InvalidOperationException("never started"), 1);

    /// <summary>Waits until crispd printed <paramref name="text"/> after <paramref name="fromOffset"/> characters of <see cref="Output"/>.</summary>
    public async Task<string> WaitForOutputAsync(string text, int fromOffset, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var output = Output;
            var at = output.IndexOf(text, Math.Min(fromOffset, output.Length), StringComparison.Ordinal);
            if (at >= 0)
            {
                var end = output.IndexOf('\n', at);
                return output[(output.LastIndexOf('\n', at) + 1)..(end < 0 ? output.Length : end)];
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"crispd did not print \"{text}\" within {timeout}:\n{output[Math.Min(fromOffset, output.Length)..]}");
            await Task.Delay(50);
        }
    }

    public int ExitCode => _process?.ExitCode ?? throw new InvalidOperationException("never started");

    private static void Signal(int pid, int signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", [$"-{signal}", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]))!;
        kill.WaitForExit();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        catch (TimeoutException)
        {
        }
        LeftoverCleanup.UnmountUnder(BaseDirectory);
        CgroupCleanup.RemoveTree(PodCgroupRoot);
        try
        {
            Directory.Delete(BaseDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A busy mount left by a failing test must not hide that test's own failure.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
