using Microsoft.Extensions.Logging;

namespace Crisp.ImageService.Registry;

/// <summary>Registry client log events. Nothing here may carry credentials or tokens.</summary>
internal static partial class RegistryLog
{
    [LoggerMessage(EventId = 3001, Level = LogLevel.Debug, Message = "Resolving {Reference} via {Endpoint}")]
    public static partial void Resolving(ILogger logger, string reference, string endpoint);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "Resolved {Reference} to manifest {ManifestDigest} (repo digest {RepoDigest}) via {Endpoint}")]
    public static partial void Resolved(ILogger logger, string reference, string manifestDigest, string repoDigest, string endpoint);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Mirror {Endpoint} failed for {Reference}, trying the next endpoint: {Reason}")]
    public static partial void MirrorFailed(ILogger logger, string endpoint, string reference, string reason);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "Request {Method} {Url} failed (attempt {Attempt} of {MaxAttempts}), retrying in {DelayMs} ms: {Reason}")]
    public static partial void Retrying(ILogger logger, string method, string url, int attempt, int maxAttempts, long delayMs, string reason);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Warning, Message = "TLS handshake with insecure registry {Host} failed, using plain HTTP for {Minutes} minutes: {Reason}")]
    public static partial void FallingBackToHttp(ILogger logger, string host, double minutes, string reason);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Warning, Message = "Blob {Digest} from {Endpoint} interrupted at byte {Offset} of {Size}, resuming in {DelayMs} ms: {Reason}")]
    public static partial void ResumingBlob(ILogger logger, string digest, string endpoint, long offset, long size, long delayMs, string reason);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Debug, Message = "Fetched a bearer token for {Host} scope {Scope}, valid {Seconds} s")]
    public static partial void TokenFetched(ILogger logger, string host, string scope, double seconds);

    [LoggerMessage(EventId = 3008, Level = LogLevel.Debug, Message = "Server ignored Range for blob {Digest}; skipping {Offset} bytes")]
    public static partial void RangeIgnored(ILogger logger, string digest, long offset);

    [LoggerMessage(EventId = 3009, Level = LogLevel.Warning, Message = "Size limit {Limit} ({LimitBytes} bytes) hit by {What}: {Size}")]
    public static partial void SizeLimitHit(ILogger logger, string limit, int limitBytes, string what, string size);
}
