using System.Collections.Concurrent;
using System.Diagnostics;
using Crisp.Server.Errors;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Crisp.Server.Telemetry;

/// <summary>
/// Wraps every CRI call once: a span, the request/latency metrics, a debug log line, and the
/// translation of library exceptions into gRPC statuses, so handlers only express the mapping.
/// </summary>
public sealed partial class RpcInterceptor(ILogger<RpcInterceptor> logger) : Interceptor
{
    private readonly ILogger _logger = logger;

    // "/runtime.v1.RuntimeService/Version" → "runtime.v1.RuntimeService/Version", trimmed once per method, not per call.
    private static readonly ConcurrentDictionary<string, string> MethodNames = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<MessageDescriptor, (FieldDescriptor? Pod, FieldDescriptor? Container)> IdFields = new();

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        using var call = Begin(request, context);
        try
        {
            var response = await continuation(request, context);
            call.Succeeded();
            return response;
        }
        catch (Exception e)
        {
            throw call.Failed(e);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        using var call = Begin(request, context);
        try
        {
            await continuation(request, responseStream, context);
            call.Succeeded();
        }
        catch (Exception e)
        {
            throw call.Failed(e);
        }
    }

    private CallScope Begin(object request, ServerCallContext context)
    {
        var method = MethodNames.GetOrAdd(context.Method, static m => m.TrimStart('/'));
        var activity = CrispTelemetry.Source.StartActivity(method, ActivityKind.Server);
        string? podId = null, containerId = null;
        if (request is IMessage message)
        {
            var (podField, containerField) = IdFields.GetOrAdd(message.Descriptor,
                d => (d.FindFieldByName("pod_sandbox_id"), d.FindFieldByName("container_id")));
            podId = podField?.Accessor.GetValue(message) as string;
            containerId = containerField?.Accessor.GetValue(message) as string;
        }
        if (activity is not null)
        {
            activity.SetTag("rpc.system", "grpc");
            activity.SetTag("rpc.method", method);
            if (!string.IsNullOrEmpty(podId)) activity.SetTag("crisp.pod_sandbox_id", podId);
            if (!string.IsNullOrEmpty(containerId)) activity.SetTag("crisp.container_id", containerId);
        }
        return new CallScope(this, method, activity, context);
    }

    private sealed class CallScope(RpcInterceptor owner, string method, Activity? activity, ServerCallContext context) : IDisposable
    {
        private readonly long _started = Stopwatch.GetTimestamp();
        private StatusCode _code = StatusCode.OK;

        public void Succeeded() => _code = StatusCode.OK;

        public RpcException Failed(Exception e)
        {
            var rpcException = ExceptionMapper.ToRpcException(e, method, context.CancellationToken);
            _code = rpcException.StatusCode;
            activity?.SetStatus(ActivityStatusCode.Error, rpcException.Status.Detail);
            if (_code is StatusCode.Internal or StatusCode.Unknown)
                LogFailed(owner._logger, method, _code, rpcException.Status.Detail, e);
            else
                LogRefused(owner._logger, method, _code, rpcException.Status.Detail);
            return rpcException;
        }

        public void Dispose()
        {
            var seconds = Stopwatch.GetElapsedTime(_started).TotalSeconds;
            var tags = new TagList { { "rpc", method }, { "code", _code.ToString() } };
            CrispTelemetry.RpcCount.Add(1, tags);
            CrispTelemetry.RpcDuration.Record(seconds, tags);
            activity?.SetTag("rpc.grpc.status_code", (int)_code);
            activity?.Dispose();
            LogCompleted(owner._logger, method, _code, seconds * 1000);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Rpc} -> {Code} in {ElapsedMs:F1} ms")]
    private static partial void LogCompleted(ILogger logger, string rpc, StatusCode code, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Rpc} refused: {Code}: {Detail}")]
    private static partial void LogRefused(ILogger logger, string rpc, StatusCode code, string detail);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Rpc} failed: {Code}: {Detail}")]
    private static partial void LogFailed(ILogger logger, string rpc, StatusCode code, string detail, Exception exception);
}
