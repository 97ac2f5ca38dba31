namespace Crisp.ImageService.Registry;

/// <summary>Timeouts and retry limits of <see cref="RegistryClient"/>; the defaults suit production.</summary>
public sealed class RegistryClientOptions
{
    /// <summary>Attempts per request (the first one included) before a transient failure is reported.</summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>Delay before the first retry; doubles each retry.</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Upper bound of a single retry delay, including a server's Retry-After.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How long a request may wait for response headers (and a manifest for its body).</summary>
    public TimeSpan ResponseTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>A blob read that delivers nothing for this long is abandoned and resumed with a Range request.</summary>
    public TimeSpan BlobReadIdleTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Consecutive failed resumptions of one blob stream (without progress in between) before giving up.</summary>
    public int MaxBlobResumes { get; init; } = 5;

    public string UserAgent { get; init; } = "crisp/0.1";

    /// <summary>
    /// Loopback registries get plain HTTP without trying TLS (containerd's rule). Only tests turn
    /// this off, to exercise TLS and the insecure fallback on 127.0.0.1.
    /// </summary>
    internal bool PlainHttpForLoopback { get; init; } = true;
}
