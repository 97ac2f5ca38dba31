using System.Text.Json;
using Crisp.Interop;
using Crisp.Runtime.Api;
using Microsoft.Extensions.Logging;

namespace Crisp.Runtime.Handlers;

/// <summary>
/// A runtime with runc's command line (runc, crun): containers are created under conmon, everything else is a
/// direct short-lived CLI call against the handler's --root.
/// </summary>
public sealed partial class OciRuntimeHandler : IRuntimeHandler
{
    private static readonly TimeSpan CliTimeout = TimeSpan.FromSeconds(60);

    private readonly RuntimeHandlerOptions _options;
    private readonly ConmonLauncher _conmon;
    private readonly ILogger _logger;
    private readonly bool _systemdCgroup;

    public OciRuntimeHandler(RuntimeHandlerOptions options, string conmonPath, string cgroupDriver, ILogger logger)
    {
        _options = options;
        _logger = logger;
        _systemdCgroup = string.Equals(cgroupDriver, "systemd", StringComparison.OrdinalIgnoreCase);
        BinaryPath = ExecutableLocator.Find(options.Path) ?? "";
        var conmon = ExecutableLocator.Find(conmonPath);
        ConmonPath = conmon ?? conmonPath;
        _conmon = new ConmonLauncher(ConmonPath, logger);
        Availability = BinaryPath.Length == 0
            ? HandlerAvailability.NotReady($"runtime binary \"{options.Path}\" for handler {options.Name} was not found")
            : conmon is null
                ? HandlerAvailability.NotReady($"conmon (\"{conmonPath}\") was not found")
                : HandlerAvailability.NotReady($"handler {options.Name} has not been probed yet");
    }

    public string Name => _options.Name;
    public string BinaryPath { get; }
    public string ConmonPath { get; }
    public string Root => _options.Root;
    public HandlerAvailability Availability { get; private set; }
    private Task _probed = Task.CompletedTask;

    public Task Probed => _probed;

    /// <summary>
    /// Runs the host probe once (see <see cref="HandlerProbe"/>) and caches its verdict; <see cref="Probed"/> completes
    /// with it. A probe that fails unexpectedly leaves the handler not ready with that reason instead of stopping crispd.
    /// </summary>
    public Task ProbeAsync(CancellationToken ct) => _probed = ProbeOnceAsync(ct);

    private async Task ProbeOnceAsync(CancellationToken ct)
    {
        if (BinaryPath.Length == 0 || !File.Exists(ConmonPath)) return;
        try
        {
            Availability = await HandlerProbe.ProbeAsync(Name, BinaryPath, _systemdCgroup, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            Availability = HandlerAvailability.NotReady($"probing {Name} ({BinaryPath}) failed: {e.Message}");
        }
        if (Availability.Ready) LogReady(_logger, Name, BinaryPath, Availability.SupportsRecursiveReadOnlyMounts, Availability.SupportsUserNamespaces);
        else LogNotReady(_logger, Name, Availability.Reason ?? "");
    }

    /// <summary>The global runtime flags as conmon passes them (--runtime-arg).</summary>
    private List<string> RuntimeArgs()
    {
        var args = new List<string> { "--root=" + _options.Root };
        if (_systemdCgroup) args.Add("--systemd-cgroup");
        return args;
    }

    private List<string> GlobalArgs()
    {
        var args = new List<string> { "--root", _options.Root };
        if (_systemdCgroup) args.Add("--systemd-cgroup");
        return args;
    }

    public async Task CreateAsync(ContainerLaunch launch, CancellationToken ct)
    {
        await EnsureReadyAsync(ct).ConfigureAwait(false);
        OwnedDirectory.Ensure(_options.Root);
        var pid = await _conmon.CreateAsync(launch, BinaryPath, RuntimeArgs(), ct).ConfigureAwait(false);
        LogCreated(_logger, launch.ContainerId, pid, Name);
    }

    public async Task StartAsync(string containerId, CancellationToken ct)
    {
        var result = await RunAsync(ct, "start", containerId).ConfigureAwait(false);
        if (!result.Succeeded)
            throw Failure("start", containerId, result, IsNotFound(result) ? RuntimeErrorKind.NotFound : RuntimeErrorKind.Internal);
    }

    public async Task KillAsync(string containerId, int signal, bool all, CancellationToken ct)
    {
        var args = new List<string> { "kill" };
        if (all) args.Add("--all");
        args.Add(containerId);
        args.Add(signal.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var result = await RunAsync(ct, [.. args]).ConfigureAwait(false);
        if (result.Succeeded || IsNotFound(result) || IsNotRunning(result)) return;
        throw Failure("kill", containerId, result);
    }

    public async Task DeleteAsync(string containerId, bool force, CancellationToken ct)
    {
        // A stopped runc container is deleted without starting runc; with the systemd driver runc also stops the
        // container's unit, which only runc does.
        if (!_systemdCgroup && await RuncStoppedContainer.TryDeleteAsync(_options.Root, containerId, ct).ConfigureAwait(false)) return;
        var result = force
            ? await RunAsync(ct, "delete", "--force", containerId).ConfigureAwait(false)
            : await RunAsync(ct, "delete", containerId).ConfigureAwait(false);
        if (result.Succeeded || IsNotFound(result)) return;
        throw Failure("delete", containerId, result);
    }

    public async Task<RuntimeState?> StateAsync(string containerId, CancellationToken ct)
    {
        var result = await RunAsync(ct, "state", containerId).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            if (IsNotFound(result)) return null;
            throw Failure("state", containerId, result);
        }
        try
        {
            using var doc = JsonDocument.Parse(result.Stdout);
            var root = doc.RootElement;
            DateTimeOffset? created = root.TryGetProperty("created", out var c) && c.ValueKind == JsonValueKind.String
                && DateTimeOffset.TryParse(c.GetString(), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var parsed)
                ? parsed : null;
            return new RuntimeState(
                root.TryGetProperty("id", out var id) ? id.GetString() ?? containerId : containerId,
                RuntimeState.ParseStatus(root.TryGetProperty("status", out var s) ? s.GetString() : null),
                root.TryGetProperty("pid", out var p) && p.ValueKind == JsonValueKind.Number ? p.GetInt32() : 0,
                root.TryGetProperty("bundle", out var b) ? b.GetString() : null,
                created);
        }
        catch (JsonException e)
        {
            throw new RuntimeException(RuntimeErrorKind.Internal, $"{Name} state {containerId} printed unreadable JSON: {e.Message}", e);
        }
    }

    public async Task UpdateResourcesAsync(string containerId, string linuxResourcesJson, CancellationToken ct)
    {
        var args = GlobalArgs();
        args.AddRange(["update", "--resources", "-", containerId]);
        var result = await CommandRunner.RunAsync(BinaryPath, args, ct, stdin: linuxResourcesJson, timeout: CliTimeout).ConfigureAwait(false);
        if (!result.Succeeded)
            throw Failure("update", containerId, result, IsNotFound(result) ? RuntimeErrorKind.NotFound : RuntimeErrorKind.Internal);
    }

    public async Task<ExecResult> ExecSyncAsync(ExecTarget target, IReadOnlyList<string> command, TimeSpan timeout, int outputBudgetBytes, CancellationToken ct)
    {
        if (command.Count == 0) throw RuntimeException.InvalidField("cmd", "must not be empty");
        var containerId = target.ContainerId;
        var bundle = await RunningBundleAsync(target, ct).ConfigureAwait(false);
        var exec = new ConmonExecSync(_conmon, BinaryPath, RuntimeArgs(), _options.Root.TrimEnd('/') + "-exec");
        var result = await exec.RunAsync(containerId, bundle, command, timeout, outputBudgetBytes, ct).ConfigureAwait(false);
        if (result.DroppedOutputBytes > 0) LogOutputTruncated(_logger, containerId, outputBudgetBytes, result.DroppedOutputBytes);
        return result;
    }

    /// <summary>
    /// The bundle of a container that must be running for an exec. A known init process is checked in /proc (a
    /// `runc state` would cost a process start on every probe); otherwise the runtime is asked.
    /// </summary>
    private async Task<string> RunningBundleAsync(ExecTarget target, CancellationToken ct)
    {
        if (target is { BundlePath: { Length: > 0 } bundle, Init: { } init })
        {
            if (!init.IsAlive())
                throw new RuntimeException(RuntimeErrorKind.FailedPrecondition, $"container {target.ContainerId} is not running (its init process {init.Pid} exited); cannot exec in it");
            return bundle;
        }
        var state = await StateAsync(target.ContainerId, ct).ConfigureAwait(false)
            ?? throw new RuntimeException(RuntimeErrorKind.NotFound, $"container {target.ContainerId} is not known to {Name}");
        if (state.Status != RuntimeStatus.Running || string.IsNullOrEmpty(state.Bundle))
            throw new RuntimeException(RuntimeErrorKind.FailedPrecondition, $"container {target.ContainerId} is not running ({state.Status}); cannot exec in it");
        return state.Bundle;
    }

    public Task ReopenLogAsync(string containerId, CancellationToken ct) => ReopenLogCoreAsync(containerId, null, ct);

    public Task ReopenLogAsync(string containerId, string logPath, CancellationToken ct) => ReopenLogCoreAsync(containerId, logPath, ct);

    private async Task ReopenLogCoreAsync(string containerId, string? logPath, CancellationToken ct)
    {
        var state = await StateAsync(containerId, ct).ConfigureAwait(false)
            ?? throw new RuntimeException(RuntimeErrorKind.NotFound, $"container {containerId} is not known to {Name}");
        if (state.Status != RuntimeStatus.Running || string.IsNullOrEmpty(state.Bundle))
            throw new RuntimeException(RuntimeErrorKind.FailedPrecondition, $"container {containerId} is not running ({state.Status}); its log cannot be reopened");
        await ConmonControl.ReopenLogAsync(state.Bundle, containerId, logPath, ct).ConfigureAwait(false);
    }

    private async Task EnsureReadyAsync(CancellationToken ct)
    {
        await _probed.WaitAsync(ct).ConfigureAwait(false);
        if (!Availability.Ready)
            throw new RuntimeException(RuntimeErrorKind.FailedPrecondition, $"runtime handler {Name} is not ready: {Availability.Reason}");
    }

    private Task<CommandResult> RunAsync(CancellationToken ct, params string[] args)
    {
        var all = GlobalArgs();
        all.AddRange(args);
        return CommandRunner.RunAsync(BinaryPath, all, ct, timeout: CliTimeout);
    }

    private static bool IsNotFound(CommandResult r) =>
        r.ErrorText.Contains("does not exist", StringComparison.OrdinalIgnoreCase)
        || r.ErrorText.Contains("not found", StringComparison.OrdinalIgnoreCase)
        || r.ErrorText.Contains("No such file or directory", StringComparison.OrdinalIgnoreCase);

    private static bool IsNotRunning(CommandResult r) =>
        r.ErrorText.Contains("not running", StringComparison.OrdinalIgnoreCase)
        || r.ErrorText.Contains("process already finished", StringComparison.OrdinalIgnoreCase)
        || r.ErrorText.Contains("container is stopped", StringComparison.OrdinalIgnoreCase);

    private RuntimeException Failure(string verb, string containerId, CommandResult r, RuntimeErrorKind kind = RuntimeErrorKind.Internal) =>
        new(kind, $"{Name} {verb} {containerId} failed (exit {r.ExitCode}): {ConmonSyncMessage.CleanRuntimeError(r.ErrorText)}");

    [LoggerMessage(Level = LogLevel.Information, Message = "Runtime handler {Handler} ready ({Path}); recursive read-only mounts: {Rro}, user namespaces: {UserNs}")]
    private static partial void LogReady(ILogger logger, string handler, string path, bool rro, bool userNs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Runtime handler {Handler} is not ready: {Reason}")]
    private static partial void LogNotReady(ILogger logger, string handler, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "ExecSync in container {ContainerId} hit the exec_sync_output limit ({LimitBytes} bytes of stdout and stderr together, from grpc.max_message_bytes): {DroppedBytes} bytes dropped")]
    private static partial void LogOutputTruncated(ILogger logger, string containerId, int limitBytes, long droppedBytes);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Container {ContainerId} created by {Handler}, init pid {Pid}")]
    private static partial void LogCreated(ILogger logger, string containerId, int pid, string handler);
}
