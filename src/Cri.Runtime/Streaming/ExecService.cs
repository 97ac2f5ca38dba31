using Crisp.Cri.V1;
using Crisp.Runtime.Api;
using Crisp.Runtime.Handlers;
using Crisp.Runtime.State;
using Microsoft.Extensions.Logging;

namespace Crisp.Runtime.Streaming;

/// <summary>
/// Running things in containers and pods: ExecSync, and the runtime side of the streaming RPCs. Exec/Attach/
/// PortForward only hand out a URL; the Validate* methods let the RPC refuse a bad request up front, and the
/// *Async methods run the session once the client connected.
/// </summary>
public sealed class ExecService(IStateStore store, RuntimeHandlerRegistry handlers, RuntimeOptions options, ILogger<ExecService> logger)
{
    /// <summary>The kubelet (and crictl) refuse a CRI response over 16 MiB, whatever crisp itself would send.</summary>
    private const long KubeletMaxResponseBytes = 16 * 1024 * 1024;

    /// <summary>
    /// stdout and stderr together are held to this many bytes, so that the whole response fits in one gRPC message
    /// both crisp (grpc.max_message_bytes) and the kubelet accept; past it the output is truncated with a marker.
    /// </summary>
    internal int ExecSyncOutputBudget => ExecSyncOutput.BudgetFor(Math.Min(options.MaxResponseBytes, KubeletMaxResponseBytes));

    public async Task<ExecSyncResponse> ExecSyncAsync(ExecSyncRequest request, CancellationToken cancellationToken)
    {
        var record = store.RequireContainer(request.ContainerId);
        if (request.Cmd.Count == 0) throw RuntimeException.InvalidField("cmd", "must not be empty");
        if (request.Timeout < 0) throw RuntimeException.InvalidField("timeout", $"{request.Timeout} must not be negative");
        if (record.Phase != ContainerPhase.Running)
            throw new RuntimeException(RuntimeErrorKind.FailedPrecondition,
                $"container {record.Id} is {record.Phase}; exec needs a running container");
        // timeout 0 means "no timeout" in CRI.
        var timeout = request.Timeout == 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(request.Timeout);
        var result = await handlers.Get(record.RuntimeHandler)
            .ExecSyncAsync(ExecTargetOf(record), request.Cmd.ToList(), timeout, ExecSyncOutputBudget, cancellationToken);
        // The command is not named: its arguments can carry secrets, and refusals are logged at information level.
        if (result.TimedOut)
            throw new RuntimeException(RuntimeErrorKind.DeadlineExceeded,
                $"exec in container {record.Id} timed out after {request.Timeout}s");
        return new ExecSyncResponse
        {
            ExitCode = result.ExitCode,
            // The arrays are this call's own: wrapping them spares a copy of up to 16 MiB.
            Stdout = Google.Protobuf.UnsafeByteOperations.UnsafeWrap(result.Stdout),
            Stderr = Google.Protobuf.UnsafeByteOperations.UnsafeWrap(result.Stderr),
        };
    }

    /// <summary>What the record knows of a running container; an init pid recorded without its start time cannot be checked and is left out.</summary>
    internal static ExecTarget ExecTargetOf(ContainerRecord record) =>
        record is { Pid: > 0, PidStartTime: > 0 }
            ? new ExecTarget(record.Id, record.BundleDirectory, new Host.ProcessIdentity(record.Pid, record.PidStartTime))
            : ExecTarget.ById(record.Id);

    public void ValidateExec(ExecRequest request)
    {
        var record = store.RequireContainer(request.ContainerId);
        if (request.Cmd.Count == 0) throw RuntimeException.InvalidField("cmd", "must not be empty");
        ValidateStreams(request.Tty, request.Stdin, request.Stdout, request.Stderr);
        RequireRunning(record, "exec");
    }

    public void ValidateAttach(AttachRequest request)
    {
        var record = store.RequireContainer(request.ContainerId);
        ValidateStreams(request.Tty, request.Stdin, request.Stdout, request.Stderr);
        RequireRunning(record, "attach");
        if (request.Stdin && !record.Config.Stdin)
            throw new RuntimeException(RuntimeErrorKind.FailedPrecondition,
                $"container {record.Id} was created without stdin; attach with stdin needs config.stdin");
    }

    public void ValidatePortForward(PortForwardRequest request)
    {
        var sandbox = store.RequireSandbox(request.PodSandboxId);
        for (var i = 0; i < request.Port.Count; i++) ValidatePort(request.Port[i], $"port[{i}]");
        RequireReady(sandbox);
    }

    public async Task<int> ExecAsync(string containerId, IReadOnlyList<string> cmd, bool tty, StreamingIo io, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(io);
        var record = store.RequireContainer(containerId);
        if (cmd.Count == 0) throw RuntimeException.InvalidField("cmd", "must not be empty");
        if (tty && io.Stderr is not null) throw RuntimeException.InvalidField("stderr", "must be off with tty (a terminal has one output)");
        RequireRunning(record, "exec");
        return await handlers.Get(record.RuntimeHandler).ExecAsync(record.Id, cmd, tty, io, ct);
    }

    public async Task AttachAsync(string containerId, bool tty, StreamingIo io, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(io);
        var record = store.RequireContainer(containerId);
        if (tty && io.Stderr is not null) throw RuntimeException.InvalidField("stderr", "must be off with tty (a terminal has one output)");
        RequireRunning(record, "attach");
        await ConmonAttachSession.RunAsync(
            record.Id, record.BundleDirectory, tty || record.Config.Tty, record.Config.Stdin, record.Config.StdinOnce, io, logger, ct);
    }

    public async Task PortForwardAsync(string podSandboxId, int port, Stream connection, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var sandbox = store.RequireSandbox(podSandboxId);
        ValidatePort(port, "port");
        RequireReady(sandbox);
        // A pod on the node's network has no namespace of its own: its loopback is the host's.
        var netns = sandbox.HostNetwork ? null : sandbox.NetworkNamespacePath;
        if (!sandbox.HostNetwork && string.IsNullOrEmpty(netns))
            throw new RuntimeException(RuntimeErrorKind.FailedPrecondition, $"pod sandbox {sandbox.Id} has no network namespace to forward into");
        using var pod = await NetworkNamespaceDialer.ConnectLoopbackAsync(sandbox.Id, netns, port, ct);
        await PortForwardSession.PipeAsync(pod, connection, ct);
    }

    private static void ValidateStreams(bool tty, bool stdin, bool stdout, bool stderr)
    {
        if (!stdin && !stdout && !stderr)
            throw RuntimeException.InvalidField("stdin", "one of stdin, stdout or stderr must be requested");
        if (tty && stderr)
            throw RuntimeException.InvalidField("stderr", "must be false with tty (a terminal has one output)");
    }

    private static void ValidatePort(int port, string field)
    {
        if (port is < 1 or > 65535) throw RuntimeException.InvalidField(field, $"{port} is not a TCP port (1-65535)");
    }

    private static void RequireRunning(ContainerRecord record, string what)
    {
        if (record.Phase != ContainerPhase.Running)
            throw new RuntimeException(RuntimeErrorKind.FailedPrecondition, $"container {record.Id} is {record.Phase}; {what} needs a running container");
    }

    private static void RequireReady(SandboxRecord sandbox)
    {
        if (sandbox.Phase != SandboxPhase.Ready)
            throw new RuntimeException(RuntimeErrorKind.FailedPrecondition, $"pod sandbox {sandbox.Id} is {sandbox.Phase}; port forward needs a ready pod");
    }
}
