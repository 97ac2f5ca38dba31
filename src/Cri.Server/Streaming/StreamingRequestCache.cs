using System.Collections.Concurrent;
using System.Security.Cryptography;
using Google.Protobuf;

namespace Crisp.Server.Streaming;

/// <summary>
/// The Exec/Attach/PortForward requests the kubelet may still redeem: each URL carries a random single-use token
/// valid for one minute (the kubelet streaming server's rule), so a URL leaked to a log cannot be replayed.
/// </summary>
public sealed class StreamingRequestCache(TimeProvider time)
{
    public static readonly TimeSpan TokenLifetime = TimeSpan.FromMinutes(1);
    private const int MaxPending = 1000;

    private readonly ConcurrentDictionary<string, (IMessage Request, DateTimeOffset Expires)> _pending = new(StringComparer.Ordinal);

    public string Add(IMessage request)
    {
        Prune();
        if (_pending.Count >= MaxPending)
            throw new Grpc.Core.RpcException(new Grpc.Core.Status(Grpc.Core.StatusCode.ResourceExhausted,
                $"{MaxPending} streaming requests are waiting to be redeemed; try again later"));
        var token = Base64Url(RandomNumberGenerator.GetBytes(24));
        _pending[token] = (request, time.GetUtcNow() + TokenLifetime);
        return token;
    }

    /// <summary>The request the token stands for, removed so the token cannot be used again; null if unknown or expired.</summary>
    public T? Consume<T>(string token) where T : class, IMessage
    {
        if (!_pending.TryRemove(token, out var entry)) return null;
        if (entry.Expires < time.GetUtcNow()) return null;
        return entry.Request as T;
    }

    private void Prune()
    {
        var now = time.GetUtcNow();
        foreach (var (token, entry) in _pending)
            if (entry.Expires < now) _pending.TryRemove(token, out _);
    }

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
