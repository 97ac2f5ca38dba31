using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using Crisp.ImageService.Api;
using Microsoft.Extensions.Logging;

namespace Crisp.ImageService.Registry;

/// <summary>
/// Sends distribution-API requests: picks http or https per endpoint, authenticates, retries
/// transient failures with backoff. Shared by every pull; pooled connections are reused.
/// </summary>
internal sealed class RegistryTransport : IDisposable
{
    private const string Https = "https";
    private const string Http = "http";

    private readonly HttpClient _verifiedClient;
    // One client per host name marked insecure: its certificate relaxation is bound to that name,
    // so a realm or redirect target elsewhere reached through the same client is still verified.
    private readonly ConcurrentDictionary<string, Lazy<HttpClient>> _insecureClients = new(StringComparer.OrdinalIgnoreCase);
    private readonly RegistryAuthenticator _authenticator;
    private readonly RetryPolicy _retry;
    private readonly RegistryClientOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly PlainHttpFallbacks _plainHttp;

    public RegistryTransport(RegistryClientOptions options, TimeProvider time, ILogger logger)
    {
        _options = options;
        _time = time;
        _logger = logger;
        _retry = new RetryPolicy(options);
        _authenticator = new RegistryAuthenticator(_retry, time, logger);
        _plainHttp = new PlainHttpFallbacks(time);
        _verifiedClient = CreateClient(insecureHostName: null);
    }

    /// <summary>Bearer tokens the authenticator holds (tests check the expiry sweep through it).</summary>
    internal int CachedTokenCount => _authenticator.CachedTokenCount;

    public RetryPolicy Retry => _retry;

    /// <param name="insecureHostName">The one host name whose certificate is not checked; null checks every certificate.</param>
    private HttpClient CreateClient(string? insecureHostName)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = _options.ConnectTimeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(90),
            MaxConnectionsPerServer = 32,
            AutomaticDecompression = DecompressionMethods.None,
            // Blob downloads are commonly redirected to object storage; the handler drops the
            // Authorization header on redirects, so credentials stay with the registry.
            AllowAutoRedirect = true,
            MaxAutomaticRedirections = 10,
            UseCookies = false,
            UseProxy = true,
        };
        if (insecureHostName is not null)
        {
            handler.SslOptions = new SslClientAuthenticationOptions
            {
                // registries.conf "insecure = true" means the registry's certificate is not checked,
                // and nobody else's: the token realm and redirect targets it names are verified as
                // usual. Certificates name hosts, not ports, so the host name is what is compared.
                RemoteCertificateValidationCallback = (sender, _, _, errors) =>
                    errors == SslPolicyErrors.None
                    || sender is SslStream tls && RegistryHosts.SameHostName(tls.TargetHostName, insecureHostName),
            };
        }
        var client = new HttpClient(handler, disposeHandler: true)
        {
            Timeout = Timeout.InfiniteTimeSpan,
            DefaultRequestVersion = HttpVersion.Version11,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        client.DefaultRequestHeaders.UserAgent.ParseAdd(_options.UserAgent);
        return client;
    }

    private HttpClient ClientFor(RegistryEndpoint endpoint)
    {
        if (!endpoint.Insecure)
        {
            return _verifiedClient;
        }
        string hostName = RegistryHosts.HostName(endpoint.Host);
        return _insecureClients.GetOrAdd(hostName, name => new Lazy<HttpClient>(() => CreateClient(name))).Value;
    }

    private string SchemeFor(RegistryEndpoint endpoint) =>
        endpoint.IsLoopback && _options.PlainHttpForLoopback || endpoint.Insecure && _plainHttp.Applies(endpoint.Host) ? Http : Https;

    /// <summary>
    /// Sends GET <paramref name="path"/> (e.g. "/v2/library/busybox/manifests/latest") and returns
    /// the response once its headers arrived. 401, 403 and transient statuses that outlive the
    /// retries become <see cref="ImageServiceException"/>; every other status is the caller's to judge.
    /// </summary>
    public async Task<HttpResponseMessage> GetAsync(RequestTarget target, string path, Action<HttpRequestMessage>? configure, CancellationToken ct)
    {
        HttpClient client = ClientFor(target.Endpoint);
        bool answeredChallenge = false;
        AuthenticationHeaderValue? authorization = null;
        bool haveAuthorization = false;
        string what = $"GET {target.Host}{path}";

        for (int attempt = 1; ; )
        {
            string scheme = SchemeFor(target.Endpoint);
            Uri uri = new($"{scheme}://{target.Host}{path}");
            HttpRequestMessage? request = null;
            HttpResponseMessage? response = null;
            try
            {
                if (!haveAuthorization)
                {
                    authorization = await _authenticator.AuthorizeAsync(target, client, ct).ConfigureAwait(false);
                    haveAuthorization = true;
                }
                request = new HttpRequestMessage(HttpMethod.Get, uri);
                request.Headers.Authorization = authorization;
                configure?.Invoke(request);

                using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
                {
                    timeout.CancelAfter(_options.ResponseTimeout);
                    response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
                }

                if (response.StatusCode == HttpStatusCode.Unauthorized)
                {
                    if (answeredChallenge)
                    {
                        throw RegistryErrors.Refused(target, CredentialMaterial.From(target.Credentials));
                    }
                    AuthenticationHeaderValue? answer = await _authenticator.OnUnauthorizedAsync(target, response, client, ct).ConfigureAwait(false);
                    if (answer is null)
                    {
                        throw RegistryErrors.Refused(target, CredentialMaterial.From(target.Credentials));
                    }
                    response.Dispose();
                    response = null;
                    authorization = answer;
                    answeredChallenge = true;
                    continue;
                }
                if (response.StatusCode == HttpStatusCode.Forbidden)
                {
                    throw RegistryErrors.Forbidden(target);
                }
                if (RetryPolicy.IsTransientStatus(response.StatusCode))
                {
                    string reason = $"HTTP {(int)response.StatusCode}";
                    if (attempt >= _retry.MaxAttempts)
                    {
                        throw new ImageServiceException(
                            response.StatusCode == HttpStatusCode.TooManyRequests ? ImageErrorKind.ResourceExhausted : ImageErrorKind.Unavailable,
                            $"registry {target.Host} answered {reason} for {path} after {attempt} attempts");
                    }
                    TimeSpan delay = _retry.Delay(attempt, RetryAfter(response));
                    response.Dispose();
                    response = null;
                    RegistryLog.Retrying(_logger, "GET", uri.GetLeftPart(UriPartial.Path), attempt, _retry.MaxAttempts, (long)delay.TotalMilliseconds, reason);
                    await Task.Delay(delay, _time, ct).ConfigureAwait(false);
                    attempt++;
                    continue;
                }
                HttpResponseMessage result = response;
                response = null;
                return result;
            }
            catch (HttpRequestException e) when (scheme == Https && target.Endpoint.Insecure && !ct.IsCancellationRequested
                && e.HttpRequestError == HttpRequestError.SecureConnectionError && request?.RequestUri?.Authority == uri.Authority)
            {
                // containerd's behaviour for insecure registries: TLS first, plain HTTP when the TLS
                // handshake with the registry itself fails. A refused connection, a timeout or a
                // redirect target's TLS failure says nothing about whether the registry speaks TLS.
                RegistryLog.FallingBackToHttp(_logger, target.Host, PlainHttpFallbacks.Window.TotalMinutes, e.InnerException?.Message ?? e.Message);
                _plainHttp.Remember(target.Host);
            }
            catch (Exception e) when (e is not ImageServiceException && RetryPolicy.IsTransient(e, ct))
            {
                string reason = e is OperationCanceledException ? $"no response within {_options.ResponseTimeout.TotalSeconds:0} s" : e.Message;
                if (attempt >= _retry.MaxAttempts)
                {
                    throw new ImageServiceException(
                        e is OperationCanceledException ? ImageErrorKind.DeadlineExceeded : ImageErrorKind.Unavailable,
                        $"cannot reach registry {target.Host} ({what}) after {attempt} attempts: {reason}", e);
                }
                TimeSpan delay = _retry.Delay(attempt);
                RegistryLog.Retrying(_logger, "GET", uri.GetLeftPart(UriPartial.Path), attempt, _retry.MaxAttempts, (long)delay.TotalMilliseconds, reason);
                await Task.Delay(delay, _time, ct).ConfigureAwait(false);
                attempt++;
            }
            catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.SecureConnectionError
                && request?.RequestUri is { } redirected && redirected.Authority != uri.Authority)
            {
                throw new ImageServiceException(ImageErrorKind.Unavailable,
                    $"TLS connection to {redirected.Authority}, where registry {target.Host} redirected {what}, failed: {e.InnerException?.Message ?? e.Message}", e);
            }
            catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.SecureConnectionError)
            {
                throw new ImageServiceException(ImageErrorKind.Unavailable,
                    $"TLS connection to registry {target.Host} failed ({what}): {e.InnerException?.Message ?? e.Message}; "
                    + "if the registry is meant to be used without verified TLS, mark it insecure in registries.conf", e);
            }
            catch (HttpRequestException e)
            {
                throw new ImageServiceException(ImageErrorKind.Unavailable, $"cannot reach registry {target.Host} ({what}): {e.Message}", e);
            }
            finally
            {
                response?.Dispose();
                request?.Dispose();
            }
        }
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        RetryConditionHeaderValue? retryAfter = response.Headers.RetryAfter;
        if (retryAfter?.Delta is { } delta)
        {
            return delta;
        }
        if (retryAfter?.Date is { } date)
        {
            TimeSpan until = date - DateTimeOffset.UtcNow;
            return until > TimeSpan.Zero ? until : null;
        }
        return null;
    }

    public void Dispose()
    {
        _verifiedClient.Dispose();
        foreach (Lazy<HttpClient> client in _insecureClients.Values)
        {
            if (client.IsValueCreated)
            {
                client.Value.Dispose();
            }
        }
    }
}
