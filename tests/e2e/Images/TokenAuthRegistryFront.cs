using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Crisp.E2E.Fixtures;

namespace Crisp.E2E.Images;

/// <summary>
/// A registry that speaks the Docker token protocol in front of the registry fixture: /v2/ requests
/// without a valid bearer token get 401 with a Bearer challenge naming a token service on a second
/// port; the token service issues tokens (anonymously, for Basic credentials, or for an OAuth2
/// refresh token) and requests carrying one are forwarded to the real registry. It can also answer
/// a manifest path with bytes of its own, for manifests no registry would accept.
/// Plain HTTP on 127.0.0.1 only.
/// </summary>
internal sealed class TokenAuthRegistryFront : IAsyncDisposable
{
    public const string Service = "crisp-test-token-service";

    private readonly BasicCredentials? _requiredCredentials;
    private readonly string? _refreshToken;
    private readonly string? _staticToken;
    private readonly HttpListener _listener = new();
    private readonly HttpClient _client;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<string, string> _issued = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (byte[] Body, string MediaType, bool DeclareLength)> _manifestOverrides = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<TokenRequest> _tokenRequests = new();
    private readonly ConcurrentQueue<FrontRequest> _registryRequests = new();
    private readonly Task _loop;

    /// <summary>One request to the token service.</summary>
    public sealed record TokenRequest(string Method, string? Service, string? Scope, bool HadBasicCredentials, bool HadRefreshToken, int Status);

    /// <summary>One /v2/ request and whether it carried a token this front issued.</summary>
    public sealed record FrontRequest(string Method, string Path, bool Authorized, int Status);

    public int RegistryPort { get; }

    public int TokenPort { get; }

    /// <summary>"127.0.0.1:PORT": the registry host to pull from.</summary>
    public string Host => $"127.0.0.1:{RegistryPort}";

    public string Realm => $"http://127.0.0.1:{TokenPort}/token";

    public IReadOnlyList<TokenRequest> TokenRequests => _tokenRequests.ToArray();

    public IReadOnlyList<FrontRequest> RegistryRequests => _registryRequests.ToArray();

    public string Reference(string repository, string tag = "latest") => $"{Host}/{repository}:{tag}";

    private TokenAuthRegistryFront(RegistryFixture upstream, BasicCredentials? requiredCredentials, string? refreshToken, string? staticToken)
    {
        _requiredCredentials = requiredCredentials;
        _refreshToken = refreshToken;
        _staticToken = staticToken;
        _client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false }) { BaseAddress = upstream.BaseUri };
        RegistryPort = FreeTcpPort.Pick();
        TokenPort = FreeTcpPort.Pick();
        while (TokenPort == RegistryPort) TokenPort = FreeTcpPort.Pick();
        _listener.Prefixes.Add($"http://127.0.0.1:{RegistryPort}/");
        _listener.Prefixes.Add($"http://127.0.0.1:{TokenPort}/");
        _listener.Start();
        _loop = AcceptAsync();
    }

    /// <param name="requiredCredentials">Null: tokens for anyone (a public registry still wants the token dance).</param>
    /// <param name="refreshToken">An OAuth2 refresh token (CRI identity_token) the token service also accepts.</param>
    /// <param name="staticToken">A bearer token (CRI registry_token) the registry accepts without the token service.</param>
    public static TokenAuthRegistryFront Start(RegistryFixture upstream, BasicCredentials? requiredCredentials = null,
        string? refreshToken = null, string? staticToken = null) =>
        new(upstream, requiredCredentials, refreshToken, staticToken);

    /// <summary>Answers GET /v2/REPOSITORY/manifests/TAG with <paramref name="body"/> instead of asking the registry.</summary>
    public void ServeManifest(string repository, string tag, byte[] body, string mediaType, bool declareLength) =>
        _manifestOverrides[$"/v2/{repository}/manifests/{tag}"] = (body, mediaType, declareLength);

    private async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (HttpListenerException)
            {
                continue;
            }
            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        try
        {
            if (context.Request.LocalEndPoint.Port == TokenPort) await IssueTokenAsync(context);
            else await ServeRegistryAsync(context);
        }
        catch (Exception) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is IOException or HttpListenerException or ObjectDisposedException)
        {
            // The client hung up (a refused manifest, a cancelled pull): nothing to answer.
        }
        finally
        {
            try
            {
                context.Response.Close();
            }
            catch (Exception ex) when (ex is IOException or HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
            }
        }
    }

    private async Task IssueTokenAsync(HttpListenerContext context)
    {
        HttpListenerRequest request = context.Request;
        string? service = request.QueryString["service"];
        string? scope = request.QueryString["scope"];
        bool basicGiven = false;
        bool basicValid = false;
        bool refreshGiven = false;
        bool refreshValid = false;

        if (request.Headers["Authorization"] is { } authorization && authorization.StartsWith("Basic ", StringComparison.Ordinal))
        {
            basicGiven = true;
            string decoded = Encoding.UTF8.GetString(Convert.FromBase64String(authorization["Basic ".Length..]));
            basicValid = _requiredCredentials is { } required && decoded == $"{required.Username}:{required.Password}";
        }
        if (request.HttpMethod == "POST")
        {
            using var reader = new StreamReader(request.InputStream, Encoding.UTF8);
            var form = System.Web.HttpUtility.ParseQueryString(await reader.ReadToEndAsync());
            service = form["service"];
            scope = form["scope"];
            refreshGiven = form["grant_type"] == "refresh_token";
            refreshValid = refreshGiven && _refreshToken is not null && form["refresh_token"] == _refreshToken;
            if (!refreshGiven)
            {
                Record(404);
                return;
            }
        }

        bool allowed = service == Service && (_requiredCredentials is null ? !basicGiven || basicValid : basicValid || refreshValid);
        if (!allowed)
        {
            Record(401);
            await WriteJsonAsync(context.Response, 401, new { errors = new[] { new { code = "UNAUTHORIZED", message = "authentication required" } } });
            return;
        }

        string token = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
        _issued[token] = scope ?? "";
        Record(200);
        await WriteJsonAsync(context.Response, 200, new Dictionary<string, object>
        {
            ["token"] = token,
            ["access_token"] = token,
            ["expires_in"] = 300,
            ["issued_at"] = DateTimeOffset.UtcNow.ToString("O"),
        });

        void Record(int status) => _tokenRequests.Enqueue(new TokenRequest(request.HttpMethod, service, scope, basicGiven, refreshGiven, status));
    }

    private async Task ServeRegistryAsync(HttpListenerContext context)
    {
        HttpListenerRequest request = context.Request;
        string path = request.Url!.AbsolutePath;
        string? repository = RepositoryOf(path);
        bool authorized = IsAuthorized(request.Headers["Authorization"], repository);
        if (!authorized)
        {
            _registryRequests.Enqueue(new FrontRequest(request.HttpMethod, path, false, 401));
            string challenge = repository is null
                ? $"Bearer realm=\"{Realm}\",service=\"{Service}\""
                : $"Bearer realm=\"{Realm}\",service=\"{Service}\",scope=\"repository:{repository}:pull\"";
            context.Response.AddHeader("WWW-Authenticate", challenge);
            context.Response.AddHeader("Docker-Distribution-Api-Version", "registry/2.0");
            await WriteJsonAsync(context.Response, 401, new { errors = new[] { new { code = "UNAUTHORIZED", message = "authentication required" } } });
            return;
        }

        if (_manifestOverrides.TryGetValue(path, out var manifest))
        {
            _registryRequests.Enqueue(new FrontRequest(request.HttpMethod, path, true, 200));
            context.Response.StatusCode = 200;
            context.Response.ContentType = manifest.MediaType;
            if (manifest.DeclareLength) context.Response.ContentLength64 = manifest.Body.Length;
            else context.Response.SendChunked = true;
            if (request.HttpMethod != "HEAD") await context.Response.OutputStream.WriteAsync(manifest.Body, _stopping.Token);
            return;
        }

        using var forward = new HttpRequestMessage(new HttpMethod(request.HttpMethod), request.Url.PathAndQuery);
        foreach (string accept in request.Headers.GetValues("Accept") ?? []) forward.Headers.TryAddWithoutValidation("Accept", accept);
        if (request.Headers["Range"] is { } range) forward.Headers.TryAddWithoutValidation("Range", range);
        using HttpResponseMessage upstream = await _client.SendAsync(forward, HttpCompletionOption.ResponseHeadersRead, _stopping.Token);
        _registryRequests.Enqueue(new FrontRequest(request.HttpMethod, path, true, (int)upstream.StatusCode));

        HttpListenerResponse response = context.Response;
        response.StatusCode = (int)upstream.StatusCode;
        if (upstream.Content.Headers.ContentType is { } type) response.ContentType = type.ToString();
        foreach (string header in new[] { "Docker-Content-Digest", "Docker-Distribution-Api-Version", "Accept-Ranges", "Content-Range" })
        {
            if (upstream.Headers.TryGetValues(header, out var values) || upstream.Content.Headers.TryGetValues(header, out values))
            {
                response.AddHeader(header, string.Join(", ", values));
            }
        }
        if (upstream.Content.Headers.ContentLength is long length) response.ContentLength64 = length;
        else response.SendChunked = true;
        if (request.HttpMethod != "HEAD")
        {
            await using Stream body = await upstream.Content.ReadAsStreamAsync(_stopping.Token);
            await body.CopyToAsync(response.OutputStream, _stopping.Token);
        }
    }

    /// <summary>"/v2/a/b/manifests/x" → "a/b"; null for the /v2/ ping.</summary>
    private static string? RepositoryOf(string path)
    {
        if (!path.StartsWith("/v2/", StringComparison.Ordinal)) return null;
        foreach (string kind in new[] { "/manifests/", "/blobs/", "/tags/" })
        {
            int at = path.IndexOf(kind, StringComparison.Ordinal);
            if (at > "/v2/".Length) return path["/v2/".Length..at];
        }
        return null;
    }

    private bool IsAuthorized(string? authorization, string? repository)
    {
        if (authorization is null || !authorization.StartsWith("Bearer ", StringComparison.Ordinal)) return false;
        string token = authorization["Bearer ".Length..].Trim();
        if (_staticToken is not null && token == _staticToken) return true;
        if (!_issued.TryGetValue(token, out string? scope)) return false;
        return repository is null || scope.Split(' ').Contains($"repository:{repository}:pull");
    }

    private static async Task WriteJsonAsync(HttpListenerResponse response, int status, object body)
    {
        byte[] bytes = JsonSerializer.SerializeToUtf8Bytes(body);
        response.StatusCode = status;
        response.ContentType = "application/json";
        response.ContentLength64 = bytes.Length;
        await response.OutputStream.WriteAsync(bytes);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Close();
        try
        {
            await _loop;
        }
        catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
        {
        }
        _client.Dispose();
        _stopping.Dispose();
    }
}
