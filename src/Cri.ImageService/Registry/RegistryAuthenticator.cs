using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Crisp.ImageService.Api;
using Microsoft.Extensions.Logging;

namespace Crisp.ImageService.Registry;

/// <summary>
/// Answers registry auth challenges: Basic credentials, or bearer tokens from the realm named in the
/// challenge (Docker token protocol, including OAuth2 refresh tokens). Remembers each host's
/// challenge so later requests authenticate up front, and caches tokens per
/// (host, scope, credentials) until they expire. Each fetched token sweeps the expired ones, so the cache
/// holds only live tokens, however many repositories and credentials a node has pulled with.
/// </summary>
internal sealed class RegistryAuthenticator(RetryPolicy retry, TimeProvider time, ILogger logger)
{
    /// <summary>The docker token spec's default when a token response omits expires_in.</summary>
    private static readonly TimeSpan DefaultTokenLifetime = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ExpiryMargin = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<string, AuthChallenge> _challenges = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Host, string Scope, string Credentials), CachedToken> _tokens = new();

    private sealed record CachedToken(string Token, DateTimeOffset Expires);

    /// <summary>The Authorization header to send before any 401, from what this host asked for last time.</summary>
    public async ValueTask<AuthenticationHeaderValue?> AuthorizeAsync(RequestTarget target, HttpClient client, CancellationToken ct)
    {
        if (!_challenges.TryGetValue(target.Host, out AuthChallenge? challenge))
        {
            return null;
        }
        return await AnswerAsync(target, challenge, client, forceNewToken: false, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Learns the challenge of a 401 and produces a fresh answer to it; null when there is nothing
    /// to answer with (the caller reports the 401).
    /// </summary>
    public async ValueTask<AuthenticationHeaderValue?> OnUnauthorizedAsync(RequestTarget target, HttpResponseMessage response, HttpClient client, CancellationToken ct)
    {
        AuthChallenge? challenge = PickChallenge(response);
        if (challenge is null)
        {
            return null;
        }
        _challenges[target.Host] = challenge;
        return await AnswerAsync(target, challenge, client, forceNewToken: true, ct).ConfigureAwait(false);
    }

    private static AuthChallenge? PickChallenge(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("WWW-Authenticate", out IEnumerable<string>? values))
        {
            return null;
        }
        var challenges = values.SelectMany(AuthChallenge.Parse).ToList();
        return challenges.FirstOrDefault(c => c.IsBearer && !string.IsNullOrEmpty(c.Realm))
            ?? challenges.FirstOrDefault(c => c.IsBasic);
    }

    private async ValueTask<AuthenticationHeaderValue?> AnswerAsync(RequestTarget target, AuthChallenge challenge, HttpClient client, bool forceNewToken, CancellationToken ct)
    {
        CredentialMaterial credentials = CredentialMaterial.From(target.Credentials);
        if (challenge.IsBasic)
        {
            return credentials.HasBasic ? new AuthenticationHeaderValue("Basic", credentials.BasicHeaderValue()) : null;
        }
        if (credentials.RegistryToken is not null)
        {
            return new AuthenticationHeaderValue("Bearer", credentials.RegistryToken);
        }

        var key = (target.Host, target.PullScope, credentials.CacheKey);
        if (!forceNewToken && _tokens.TryGetValue(key, out CachedToken? cached) && cached.Expires > time.GetUtcNow())
        {
            return new AuthenticationHeaderValue("Bearer", cached.Token);
        }
        _tokens.TryRemove(key, out _);
        CachedToken token = await FetchTokenAsync(target, challenge, credentials, client, ct).ConfigureAwait(false);
        DropExpiredTokens();
        _tokens[key] = token;
        return new AuthenticationHeaderValue("Bearer", token.Token);
    }

    /// <summary>Tokens cached now; what the expiry sweep keeps bounded.</summary>
    internal int CachedTokenCount => _tokens.Count;

    // A sweep per fetch: fetches are rare (one per repository and token lifetime) and the cache is small.
    private void DropExpiredTokens()
    {
        DateTimeOffset now = time.GetUtcNow();
        foreach (var (key, token) in _tokens)
        {
            if (token.Expires <= now) _tokens.TryRemove(KeyValuePair.Create(key, token));
        }
    }

    private async Task<CachedToken> FetchTokenAsync(RequestTarget target, AuthChallenge challenge, CredentialMaterial credentials, HttpClient client, CancellationToken ct)
    {
        if (!Uri.TryCreate(challenge.Realm, UriKind.Absolute, out Uri? realm) || realm.Scheme is not ("https" or "http"))
        {
            throw new ImageServiceException(ImageErrorKind.Unavailable,
                $"registry {target.Host} sent an unusable token realm \"{challenge.Realm}\" for repository {target.Repository}");
        }
        if ((credentials.HasBasic || credentials.IdentityToken is not null) && !target.MaySendCredentialsTo(realm))
        {
            throw new ImageServiceException(ImageErrorKind.FailedPrecondition,
                $"registry {target.Host} asks for the credentials of repository {target.Repository} at token realm {realm.GetLeftPart(UriPartial.Path)} "
                + "over plain HTTP; credentials are sent only over TLS, or in plain HTTP to the registry host itself when registries.conf marks it insecure");
        }

        for (int attempt = 1; ; attempt++)
        {
            try
            {
                using HttpResponseMessage response = await RequestTokenAsync(realm, challenge.Service, target.PullScope, credentials, client, ct).ConfigureAwait(false);
                if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
                {
                    throw RegistryErrors.Refused(target, credentials);
                }
                if (RetryPolicy.IsTransientStatus(response.StatusCode) && attempt < retry.MaxAttempts)
                {
                    await DelayAsync(realm, attempt, $"HTTP {(int)response.StatusCode}", ct).ConfigureAwait(false);
                    continue;
                }
                if (!response.IsSuccessStatusCode)
                {
                    throw new ImageServiceException(ImageErrorKind.Unavailable,
                        $"token service of registry {target.Host} answered HTTP {(int)response.StatusCode} for repository {target.Repository}");
                }
                byte[] body = await SizeLimit.TokenResponse.ReadAsync(response,
                    $"token service {realm.GetLeftPart(UriPartial.Path)} of registry {target.Host}", logger, ct).ConfigureAwait(false);
                CachedToken token = ParseTokenResponse(body, target);
                RegistryLog.TokenFetched(logger, target.Host, target.PullScope, (token.Expires - time.GetUtcNow()).TotalSeconds);
                return token;
            }
            catch (Exception e) when (e is not ImageServiceException && RetryPolicy.IsTransient(e, ct) && attempt < retry.MaxAttempts)
            {
                await DelayAsync(realm, attempt, e.Message, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not ImageServiceException && RetryPolicy.IsTransient(e, ct))
            {
                throw new ImageServiceException(ImageErrorKind.Unavailable,
                    $"cannot reach the token service {realm.GetLeftPart(UriPartial.Authority)} of registry {target.Host}: {e.Message}", e);
            }
            catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.SecureConnectionError)
            {
                // Reported here, not by the caller: the registry's own TLS is fine, so this must
                // neither read as the registry's failure nor make an insecure registry fall back to HTTP.
                throw new ImageServiceException(ImageErrorKind.Unavailable,
                    $"TLS connection to the token service {realm.GetLeftPart(UriPartial.Authority)} of registry {target.Host} failed: {e.InnerException?.Message ?? e.Message}", e);
            }
        }
    }

    private async Task DelayAsync(Uri realm, int attempt, string reason, CancellationToken ct)
    {
        TimeSpan delay = retry.Delay(attempt);
        RegistryLog.Retrying(logger, "GET", realm.GetLeftPart(UriPartial.Path), attempt, retry.MaxAttempts, (long)delay.TotalMilliseconds, reason);
        await Task.Delay(delay, time, ct).ConfigureAwait(false);
    }

    private static async Task<HttpResponseMessage> RequestTokenAsync(Uri realm, string? service, string scope, CredentialMaterial credentials, HttpClient client, CancellationToken ct)
    {
        if (credentials.IdentityToken is not null)
        {
            // An identity token is an OAuth2 refresh token: exchange it with a POST (docker token spec).
            var form = new Dictionary<string, string>
            {
                ["grant_type"] = "refresh_token",
                ["refresh_token"] = credentials.IdentityToken,
                ["client_id"] = "crisp",
                ["scope"] = scope,
            };
            if (!string.IsNullOrEmpty(service))
            {
                form["service"] = service;
            }
            using var post = new HttpRequestMessage(HttpMethod.Post, realm) { Content = new FormUrlEncodedContent(form) };
            HttpResponseMessage response = await client.SendAsync(post, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
            // Token servers without OAuth2 support answer 404/405; they still take GET below.
            if (response.StatusCode is not (HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed))
            {
                return response;
            }
            response.Dispose();
        }

        var query = new List<string>();
        if (!string.IsNullOrEmpty(service))
        {
            query.Add("service=" + Uri.EscapeDataString(service));
        }
        query.Add("scope=" + Uri.EscapeDataString(scope));
        if (credentials.HasBasic)
        {
            query.Add("account=" + Uri.EscapeDataString(credentials.Username!));
        }
        var builder = new UriBuilder(realm);
        string existing = builder.Query.TrimStart('?');
        builder.Query = string.Join('&', existing.Length > 0 ? [existing, .. query] : query);
        using var get = new HttpRequestMessage(HttpMethod.Get, builder.Uri);
        if (credentials.HasBasic)
        {
            get.Headers.Authorization = new AuthenticationHeaderValue("Basic", credentials.BasicHeaderValue());
        }
        return await client.SendAsync(get, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
    }

    private CachedToken ParseTokenResponse(byte[] body, RequestTarget target)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(body);
            JsonElement root = document.RootElement;
            string? token = null;
            if (root.TryGetProperty("token", out JsonElement t) && t.ValueKind == JsonValueKind.String)
            {
                token = t.GetString();
            }
            if (string.IsNullOrEmpty(token) && root.TryGetProperty("access_token", out JsonElement a) && a.ValueKind == JsonValueKind.String)
            {
                token = a.GetString();
            }
            if (string.IsNullOrEmpty(token))
            {
                throw new ImageServiceException(ImageErrorKind.Unavailable,
                    $"token service of registry {target.Host} returned no token for repository {target.Repository}");
            }
            TimeSpan lifetime = DefaultTokenLifetime;
            if (root.TryGetProperty("expires_in", out JsonElement e) && e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out long seconds) && seconds > 0)
            {
                lifetime = TimeSpan.FromSeconds(seconds);
            }
            return new CachedToken(token, time.GetUtcNow() + lifetime - (lifetime > ExpiryMargin * 2 ? ExpiryMargin : TimeSpan.Zero));
        }
        catch (JsonException e)
        {
            throw new ImageServiceException(ImageErrorKind.Unavailable,
                $"token service of registry {target.Host} returned invalid JSON for repository {target.Repository}", e);
        }
    }
}
