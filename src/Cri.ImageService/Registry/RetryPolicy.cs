using System.Net;
using System.Security.Authentication;

namespace Crisp.ImageService.Registry;

/// <summary>Which registry failures are worth another attempt, and how long to wait before it.</summary>
internal sealed class RetryPolicy(RegistryClientOptions options)
{
    public int MaxAttempts => Math.Max(1, options.MaxAttempts);

    public static bool IsTransientStatus(HttpStatusCode status) =>
        status == HttpStatusCode.TooManyRequests || (int)status >= 500 && status != HttpStatusCode.NotImplemented && status != HttpStatusCode.HttpVersionNotSupported;

    /// <summary>
    /// Connection resets, truncated bodies and our own timeouts are transient; TLS verification
    /// failures are not (retrying cannot make a certificate valid).
    /// </summary>
    public static bool IsTransient(Exception exception, CancellationToken callerToken) => exception switch
    {
        OperationCanceledException => !callerToken.IsCancellationRequested,
        HttpRequestException { InnerException: AuthenticationException } => false,
        HttpRequestException => true,
        IOException => true,
        TimeoutException => true,
        _ => false,
    };

    /// <summary>Exponential backoff for retry number <paramref name="retry"/> (1-based), honouring Retry-After.</summary>
    public TimeSpan Delay(int retry, TimeSpan? retryAfter = null)
    {
        double millis = options.RetryBaseDelay.TotalMilliseconds * Math.Pow(2, Math.Max(0, retry - 1));
        // Jitter keeps many pulls hitting the same flaky registry from retrying in lockstep.
        millis *= 0.8 + Random.Shared.NextDouble() * 0.4;
        TimeSpan delay = TimeSpan.FromMilliseconds(millis);
        if (retryAfter is { } after && after > delay)
        {
            delay = after;
        }
        return delay > options.MaxRetryDelay ? options.MaxRetryDelay : delay;
    }
}
