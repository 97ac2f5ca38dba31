using System.Collections.Concurrent;

namespace Crisp.ImageService.Registry;

/// <summary>
/// Insecure registries whose TLS handshake failed, spoken to in plain HTTP for a while so that
/// each request does not repeat the failed handshake. The fallback expires after
/// <see cref="Window"/>: a registry that gains TLS (or an attacker who made one handshake fail)
/// does not keep crispd on plain HTTP for the rest of its life.
/// </summary>
/// <remarks>Only hosts registries.conf marks insecure are ever remembered, so the map is bounded by the configuration.</remarks>
internal sealed class PlainHttpFallbacks(TimeProvider time)
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<string, DateTimeOffset> _until = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>True while <paramref name="host"/> (host[:port]) is to be spoken to in plain HTTP.</summary>
    public bool Applies(string host)
    {
        if (!_until.TryGetValue(host, out DateTimeOffset until))
        {
            return false;
        }
        if (time.GetUtcNow() < until)
        {
            return true;
        }
        _until.TryRemove(new KeyValuePair<string, DateTimeOffset>(host, until));
        return false;
    }

    public void Remember(string host) => _until[host] = time.GetUtcNow() + Window;
}
