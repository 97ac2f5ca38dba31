using System.Net.WebSockets;
using Crisp.Cri.V1;
using Crisp.Runtime;
using Crisp.Runtime.Api;
using Crisp.Runtime.Streaming;
using Crisp.Server.Limits;
using Crisp.Server.Streaming.Spdy;
using Microsoft.AspNetCore.Http.Features;

namespace Crisp.Server.Streaming;

/// <summary>
/// Serves the URLs Exec/Attach/PortForward hand out: redeems the token, upgrades the connection (SPDY/3.1 or
/// WebSocket, whichever the client asks for) and runs the session against the runtime.
/// </summary>
public sealed partial class StreamingEndpoint(
    StreamingRequestCache cache, ContainerRuntime runtime, IHostApplicationLifetime lifetime, ILogger<StreamingEndpoint> logger)
{
    private const string SpdyUpgrade = "SPDY/3.1";
    private const string ProtocolHeader = "X-Stream-Protocol-Version";
    /// <summary>After GOAWAY the client closes the connection; closing first could reset data it has not read yet.</summary>
    private static readonly TimeSpan ClientCloseGrace = TimeSpan.FromSeconds(5);

    public static bool Matches(PathString path) =>
        path.StartsWithSegments(StreamingServer.ExecPath.TrimEnd('/'))
        || path.StartsWithSegments(StreamingServer.AttachPath.TrimEnd('/'))
        || path.StartsWithSegments(StreamingServer.PortForwardPath.TrimEnd('/'));

    public async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        var token = path[(path.LastIndexOf('/') + 1)..];
        // Not RequestAborted: Kestrel may signal it for an upgraded connection while the session is still writing
        // (which would drop the exit status). Each transport ends the session itself when its client goes away.
        using var session = CancellationTokenSource.CreateLinkedTokenSource(lifetime.ApplicationStopping);
        if (path.StartsWith(StreamingServer.ExecPath, StringComparison.Ordinal) && cache.Consume<ExecRequest>(token) is { } exec)
        {
            var wanted = new RemoteCommandStreamSet(exec.Stdin, exec.Stdout, exec.Stderr, exec.Tty);
            await RemoteCommandAsync(context, wanted, exec.Cmd.ToList(), exec.ContainerId,
                async (io, ct) => RemoteCommandOutcome.Exited(await runtime.ExecAsync(exec.ContainerId, exec.Cmd.ToList(), exec.Tty, io, ct)),
                session.Token);
        }
        else if (path.StartsWith(StreamingServer.AttachPath, StringComparison.Ordinal) && cache.Consume<AttachRequest>(token) is { } attach)
        {
            var wanted = new RemoteCommandStreamSet(attach.Stdin, attach.Stdout, attach.Stderr, attach.Tty);
            await RemoteCommandAsync(context, wanted, [], attach.ContainerId,
                async (io, ct) =>
                {
                    await runtime.AttachAsync(attach.ContainerId, attach.Tty, io, ct);
                    return RemoteCommandOutcome.Exited(0);
                },
                session.Token);
        }
        else if (path.StartsWith(StreamingServer.PortForwardPath, StringComparison.Ordinal) && cache.Consume<PortForwardRequest>(token) is { } forward)
        {
            await PortForwardAsync(context, forward, session.Token);
        }
        else
        {
            await RefuseAsync(context, StatusCodes.Status404NotFound, "unknown or expired streaming token (tokens are single-use and valid for one minute)");
        }
    }

    private async Task RemoteCommandAsync(
        HttpContext context, RemoteCommandStreamSet wanted, IReadOnlyList<string> command, string containerId,
        Func<StreamingIo, CancellationToken, Task<RemoteCommandOutcome>> run, CancellationToken ct)
    {
        if (context.WebSockets.IsWebSocketRequest)
        {
            var version = NegotiateWebSocket(context, RemoteCommandProtocol.WebSocket, RemoteCommandProtocol.V1);
            if (version is null)
            {
                await RefuseProtocolAsync(context, context.WebSockets.WebSocketRequestedProtocols, RemoteCommandProtocol.WebSocket);
                return;
            }
            using var socket = await context.WebSockets.AcceptWebSocketAsync(version);
            await using var transport = WebSocketRemoteCommandTransport.Start(socket, version, wanted, logger, ct);
            await RunCommandAsync(transport, command, containerId, run, transport.SessionToken);
            return;
        }

        var spdy = await UpgradeToSpdyAsync(context, RemoteCommandProtocol.Spdy, RemoteCommandProtocol.V1);
        if (spdy is null) return;
        await using var connection = new SpdyConnection(spdy.Value.Transport, logger);
        using var connected = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var reading = ReadUntilClosedAsync(connection, connected, ct);
        try
        {
            await using var transport = await SpdyRemoteCommandTransport.AcceptAsync(connection, spdy.Value.Version, wanted, logger, connected.Token);
            await RunCommandAsync(transport, command, containerId, run, connected.Token);
        }
        catch (Exception e) when (e is TimeoutException or IOException)
        {
            LogSessionFailed(logger, e, containerId);
        }
        finally
        {
            await EndSpdyAsync(connection, reading);
        }
    }

    private async Task RunCommandAsync(
        RemoteCommandTransport transport, IReadOnlyList<string> command, string containerId,
        Func<StreamingIo, CancellationToken, Task<RemoteCommandOutcome>> run, CancellationToken ct)
    {
        RemoteCommandOutcome outcome;
        try
        {
            outcome = await run(transport.Io, ct);
        }
        catch (RuntimeException e)
        {
            outcome = RemoteCommandOutcome.Failed(e.Message);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return;
        }
        LogSessionEnded(logger, containerId, transport.ProtocolVersion, outcome.ExitCode ?? -1, outcome.Error ?? "");
        try
        {
            await transport.FinishAsync(outcome.Encode(transport.ProtocolVersion, command), ct);
        }
        catch (Exception e) when (e is IOException or WebSocketException or ObjectDisposedException)
        {
            LogSessionFailed(logger, e, containerId);
        }
    }

    private async Task PortForwardAsync(HttpContext context, PortForwardRequest request, CancellationToken ct)
    {
        string[] protocols = [RemoteCommandProtocol.PortForward];
        if (context.WebSockets.IsWebSocketRequest)
        {
            // The kubelet's WebSocket port-forward also answers to the binary channel protocol name.
            var version = NegotiateWebSocket(context, [RemoteCommandProtocol.PortForward, RemoteCommandProtocol.V4], RemoteCommandProtocol.PortForward);
            if (version is null)
            {
                await RefuseProtocolAsync(context, context.WebSockets.WebSocketRequestedProtocols, protocols);
                return;
            }
            var ports = context.Request.Query["port"].Where(p => !string.IsNullOrEmpty(p)).Select(p => p!).ToList();
            if (ports.Count == 0)
            {
                await RefuseAsync(context, StatusCodes.Status400BadRequest, "a WebSocket port forward needs at least one ?port= query parameter");
                return;
            }
            if (ports.Count > ClientLimits.WebSocketPortForwardMaxPorts)
            {
                var detail = $"a WebSocket port forward asked for {ports.Count} ports";
                LimitLog.Exceeded(logger, nameof(ClientLimits.WebSocketPortForwardMaxPorts), ClientLimits.WebSocketPortForwardMaxPorts, detail);
                await RefuseAsync(context, StatusCodes.Status400BadRequest, $"{detail}; at most {ClientLimits.WebSocketPortForwardMaxPorts} are served");
                return;
            }
            using var socket = await context.WebSockets.AcceptWebSocketAsync(version);
            try
            {
                await new WebSocketPortForward(runtime, logger).RunAsync(socket, request, ports, ct);
            }
            catch (Exception e) when (e is ArgumentException or WebSocketException or IOException)
            {
                LogSessionFailed(logger, e, request.PodSandboxId);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
            return;
        }

        var spdy = await UpgradeToSpdyAsync(context, protocols, RemoteCommandProtocol.PortForward);
        if (spdy is null) return;
        await using var connection = new SpdyConnection(spdy.Value.Transport, logger);
        using var connected = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var reading = ReadUntilClosedAsync(connection, connected, ct);
        try
        {
            await new SpdyPortForward(runtime, logger).RunAsync(connection, request, connected.Token);
        }
        catch (OperationCanceledException) when (connected.IsCancellationRequested) { }
        catch (IOException e)
        {
            LogSessionFailed(logger, e, request.PodSandboxId);
        }
        finally
        {
            await EndSpdyAsync(connection, reading);
        }
    }

    private static string? NegotiateWebSocket(HttpContext context, IReadOnlyList<string> supported, string whenNoneOffered)
    {
        var offered = context.WebSockets.WebSocketRequestedProtocols;
        return offered.Count == 0 ? whenNoneOffered : RemoteCommandProtocol.Negotiate(offered, supported);
    }

    private static async Task<(Stream Transport, string Version)?> UpgradeToSpdyAsync(HttpContext context, IReadOnlyList<string> supported, string whenNoneOffered)
    {
        var upgrade = context.Features.Get<IHttpUpgradeFeature>();
        if (!context.Request.Headers.Upgrade.ToString().Contains(SpdyUpgrade, StringComparison.OrdinalIgnoreCase) || upgrade is not { IsUpgradableRequest: true })
        {
            await RefuseAsync(context, StatusCodes.Status400BadRequest, $"this endpoint needs a connection upgrade to {SpdyUpgrade} or WebSocket");
            return null;
        }
        var offered = context.Request.Headers[ProtocolHeader];
        var version = offered.Count == 0 ? whenNoneOffered : RemoteCommandProtocol.Negotiate(offered!, supported);
        if (version is null)
        {
            await RefuseProtocolAsync(context, offered!, supported);
            return null;
        }
        context.Response.Headers[ProtocolHeader] = version;
        context.Response.Headers.Connection = "Upgrade";
        context.Response.Headers.Upgrade = SpdyUpgrade;
        return (await upgrade.UpgradeAsync(), version);
    }

    /// <summary>Runs the SPDY read loop; when the client is gone (or broke the protocol) the session is cancelled.</summary>
    private async Task ReadUntilClosedAsync(SpdyConnection connection, CancellationTokenSource session, CancellationToken ct)
    {
        try { await connection.RunAsync(ct); }
        catch (Exception e) when (e is IOException or OperationCanceledException) { LogConnectionEnded(logger, e.Message); }
        finally { await session.CancelAsync(); }
    }

    private static async Task EndSpdyAsync(SpdyConnection connection, Task reading)
    {
        try
        {
            await connection.GoAwayAsync(CancellationToken.None);
            await reading.WaitAsync(ClientCloseGrace);
        }
        catch (Exception e) when (e is TimeoutException or IOException or OperationCanceledException or ObjectDisposedException) { }
    }

    private static Task RefuseProtocolAsync(HttpContext context, IEnumerable<string> offered, IReadOnlyList<string> supported) =>
        RefuseAsync(context, StatusCodes.Status403Forbidden,
            $"unable to upgrade: unable to negotiate protocol: client supports [{string.Join(", ", offered)}], server supports [{string.Join(", ", supported)}]");

    private static async Task RefuseAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(message + "\n");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Streaming session for {Id} ended ({Protocol}): exit {ExitCode} {Error}")]
    private static partial void LogSessionEnded(ILogger logger, string id, string protocol, int exitCode, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "SPDY connection ended: {Reason}")]
    private static partial void LogConnectionEnded(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Streaming session for {Id} failed")]
    private static partial void LogSessionFailed(ILogger logger, Exception exception, string id);
}
