using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Crisp.ImageService.Manifests;
using Crisp.ImageService.References;
using Crisp.TestSupport.Layers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Crisp.TestSupport.Distribution;

/// <summary>
/// A minimal distribution-API server on 127.0.0.1 serving hand-built images, with switchable auth, request
/// recording and fault injection, so registry client and pull behaviour are tested against real sockets
/// without a real registry.
/// </summary>
public sealed class FakeRegistry : IAsyncDisposable
{
    public enum AuthMode { None, Basic, Bearer }

    public sealed record Recorded(string Method, string Path, string? Query, string? Authorization, string? Range, string? Accept, string? Body);

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, (byte[] Bytes, string MediaType)> _manifests = new();
    private readonly ConcurrentDictionary<string, byte[]> _blobs = new();
    private readonly ConcurrentDictionary<string, DateTimeOffset> _issuedTokens = new();
    private int _tokenCounter;

    private FakeRegistry(WebApplication app) => _app = app;

    public string Host { get; private set; } = "";
    public ConcurrentQueue<Recorded> Requests { get; } = new();

    public AuthMode Auth { get; set; } = AuthMode.None;
    public string Username { get; set; } = "user";
    public string Password { get; set; } = "secret";
    public string? IdentityToken { get; set; }
    public string? RegistryToken { get; set; }
    public int TokenExpiresIn { get; set; } = 300;
    /// <summary>Bearer mode: the registry refuses every token (as when a token lacks the needed scope).</summary>
    public bool RejectAllTokens { get; set; }
    /// <summary>Repositories whose requests answer 403.</summary>
    public HashSet<string> ForbiddenRepositories { get; } = [];

    /// <summary>The next N /v2/ requests answer this status (503 by default) before being served.</summary>
    public int FailNext { get; set; }
    public HttpStatusCode FailStatus { get; set; } = HttpStatusCode.ServiceUnavailable;
    /// <summary>Overrides the Docker-Content-Digest header of manifest responses.</summary>
    public string? LieAboutManifestDigest { get; set; }
    /// <summary>The next N blob responses send this many bytes and then drop the connection.</summary>
    public int CutBlobsNext { get; set; }
    public int CutBlobAfterBytes { get; set; } = 1000;
    public bool IgnoreRange { get; set; }
    /// <summary>The next N blob responses send <see cref="CutBlobAfterBytes"/> bytes and then go silent.</summary>
    public int StallBlobsNext { get; set; }
    /// <summary>Blob requests are redirected to this base URL (as registries do to object storage).</summary>
    public string? RedirectBlobsTo { get; set; }
    /// <summary>Once a blob response was cut, every later blob request answers 503.</summary>
    public bool BlobsUnavailableAfterCut { get; set; }
    private bool _blobWasCut;
    /// <summary>Manifest responses go out without Content-Length (chunked), to exercise the reading cap.</summary>
    public bool ChunkedManifests { get; set; }
    /// <summary>Bearer mode: the realm named in challenges, instead of this registry's own http://Host/token.</summary>
    public string? TokenRealm { get; set; }
    /// <summary>Answers /token requests instead of the built-in token service (a misbehaving token server).</summary>
    public RequestDelegate? TokenHandler { get; set; }

    /// <summary>Blob GETs and HEADs served so far, by digest.</summary>
    public ConcurrentDictionary<string, int> BlobRequests { get; } = new();
    /// <summary>Blobs whose body is replaced by these bytes (a corrupt registry).</summary>
    public ConcurrentDictionary<string, byte[]> CorruptBlobs { get; } = new();
    /// <summary>Blobs served half-way and then never finished (a stalled connection), until the client gives up.</summary>
    public ConcurrentDictionary<string, bool> StalledBlobs { get; } = new();
    /// <summary>Blob responses wait for this gate (to line up concurrent pulls).</summary>
    public TaskCompletionSource? BlobGate { get; set; }
    /// <summary>Responses for these blobs alone wait for their task (to hold some layers while the config and others flow).</summary>
    public ConcurrentDictionary<string, Task> HeldBlobs { get; } = new();

    /// <param name="certificate">Serve HTTPS with this certificate instead of plain HTTP.</param>
    public static async Task<FakeRegistry> StartAsync(System.Security.Cryptography.X509Certificates.X509Certificate2? certificate = null)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0, listen =>
        {
            if (certificate is not null)
            {
                listen.UseHttps(certificate);
            }
        }));
        WebApplication app = builder.Build();
        var registry = new FakeRegistry(app);
        app.Run(registry.HandleAsync);
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        registry.Host = new Uri(address).Authority;
        return registry;
    }

    public int TokenRequests => Requests.Count(r => r.Path == "/token");

    public int RequestsFor(string digest) => BlobRequests.GetValueOrDefault(digest);

    /// <summary>Publishes an image built from <paramref name="layers"/> as repository:tag; returns its config digest (the image id).</summary>
    public string Push(string repository, string tag, params CompressedLayer[] layers)
    {
        var config = new
        {
            architecture = "amd64",
            os = "linux",
            config = new { Cmd = new[] { "sh" }, User = "1000" },
            rootfs = new { type = "layers", diff_ids = layers.Select(l => l.Descriptor.DiffId).ToArray() },
        };
        string configDigest = AddBlob(JsonSerializer.SerializeToUtf8Bytes(config));
        foreach (CompressedLayer layer in layers) AddBlob(layer.Blob.ToArray());
        var manifest = new
        {
            schemaVersion = 2,
            mediaType = MediaTypes.OciManifest,
            config = new { mediaType = MediaTypes.OciConfig, digest = configDigest, size = _blobs[configDigest].Length },
            layers = layers.Select(l => new { mediaType = l.Descriptor.MediaType, digest = l.Descriptor.Digest, size = l.Descriptor.Size }).ToArray(),
        };
        AddManifest(repository, JsonSerializer.SerializeToUtf8Bytes(manifest), MediaTypes.OciManifest, tag);
        return configDigest;
    }

    public string AddBlob(byte[] content)
    {
        string digest = Digests.Sha256Of(content);
        _blobs[digest] = content;
        return digest;
    }

    /// <summary>Stores a manifest under its digest and, when given, a tag; returns the digest.</summary>
    public string AddManifest(string repository, byte[] bytes, string mediaType, string? tag = null)
    {
        string digest = Digests.Sha256Of(bytes);
        _manifests[$"{repository}|{digest}"] = (bytes, mediaType);
        if (tag is not null)
        {
            _manifests[$"{repository}|{tag}"] = (bytes, mediaType);
        }
        return digest;
    }

    private async Task HandleAsync(HttpContext context)
    {
        HttpRequest request = context.Request;
        string? body = null;
        if (request.Method == "POST")
        {
            using var reader = new StreamReader(request.Body);
            body = await reader.ReadToEndAsync();
        }
        Requests.Enqueue(new Recorded(request.Method, request.Path.Value!, request.QueryString.Value,
            request.Headers.Authorization.FirstOrDefault(), request.Headers.Range.FirstOrDefault(), request.Headers.Accept.ToString(), body));

        if (request.Path == "/token")
        {
            await (TokenHandler?.Invoke(context) ?? HandleTokenAsync(context, body));
            return;
        }
        string path = request.Path.Value!;
        if (!path.StartsWith("/v2/", StringComparison.Ordinal))
        {
            context.Response.StatusCode = 404;
            return;
        }
        if (FailNext > 0)
        {
            FailNext--;
            context.Response.StatusCode = (int)FailStatus;
            return;
        }

        int manifestsAt = path.LastIndexOf("/manifests/", StringComparison.Ordinal);
        int blobsAt = path.LastIndexOf("/blobs/", StringComparison.Ordinal);
        string repository = manifestsAt > 0 ? path[4..manifestsAt] : blobsAt > 0 ? path[4..blobsAt] : "";
        if (!Authorized(context, repository))
        {
            return;
        }
        if (ForbiddenRepositories.Contains(repository))
        {
            context.Response.StatusCode = 403;
            return;
        }

        if (manifestsAt > 0)
        {
            string key = $"{repository}|{path[(manifestsAt + "/manifests/".Length)..]}";
            if (!_manifests.TryGetValue(key, out var manifest))
            {
                context.Response.StatusCode = 404;
                return;
            }
            context.Response.ContentType = manifest.MediaType;
            context.Response.Headers["Docker-Content-Digest"] = LieAboutManifestDigest ?? Digests.Sha256Of(manifest.Bytes);
            if (!ChunkedManifests)
            {
                context.Response.ContentLength = manifest.Bytes.Length;
            }
            if (!HttpMethods.IsHead(request.Method)) await context.Response.Body.WriteAsync(manifest.Bytes);
            return;
        }
        if (blobsAt > 0 && RedirectBlobsTo is not null)
        {
            context.Response.Redirect($"{RedirectBlobsTo}/v2/redirected/blobs/{path[(blobsAt + "/blobs/".Length)..]}");
            return;
        }
        if (blobsAt > 0)
        {
            await ServeBlobAsync(context, path[(blobsAt + "/blobs/".Length)..]);
            return;
        }
        context.Response.StatusCode = 404;
    }

    private async Task ServeBlobAsync(HttpContext context, string digest)
    {
        if (_blobWasCut && BlobsUnavailableAfterCut)
        {
            context.Response.StatusCode = 503;
            return;
        }
        if (!_blobs.TryGetValue(digest, out byte[]? content))
        {
            context.Response.StatusCode = 404;
            return;
        }
        BlobRequests.AddOrUpdate(digest, 1, (_, n) => n + 1);
        if (BlobGate is { } gate) await gate.Task;
        if (HeldBlobs.TryGetValue(digest, out Task? held)) await held;
        if (CorruptBlobs.TryGetValue(digest, out byte[]? corrupt)) content = corrupt;
        if (StalledBlobs.ContainsKey(digest))
        {
            context.Response.ContentType = "application/octet-stream";
            context.Response.ContentLength = content.Length;
            await context.Response.Body.WriteAsync(content.AsMemory(0, content.Length / 2));
            await context.Response.Body.FlushAsync();
            await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { });
            return;
        }
        long start = 0;
        string? range = context.Request.Headers.Range.FirstOrDefault();
        if (range is not null && !IgnoreRange)
        {
            start = long.Parse(range["bytes=".Length..].TrimEnd('-'), System.Globalization.CultureInfo.InvariantCulture);
            context.Response.StatusCode = 206;
            context.Response.Headers.ContentRange = $"bytes {start}-{content.Length - 1}/{content.Length}";
        }
        context.Response.ContentType = "application/octet-stream";
        context.Response.ContentLength = content.Length - start;
        if (StallBlobsNext > 0)
        {
            StallBlobsNext--;
            await context.Response.Body.WriteAsync(content.AsMemory((int)start, (int)Math.Min(CutBlobAfterBytes, content.Length - start)));
            await context.Response.Body.FlushAsync();
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
            }
            return;
        }
        if (CutBlobsNext > 0)
        {
            CutBlobsNext--;
            _blobWasCut = true;
            int count = (int)Math.Min(CutBlobAfterBytes, content.Length - start);
            await context.Response.Body.WriteAsync(content.AsMemory((int)start, count));
            await context.Response.Body.FlushAsync();
            // Let the bytes reach the client before the reset, which would otherwise discard them.
            await Task.Delay(50);
            context.Abort();
            return;
        }
        await context.Response.Body.WriteAsync(content.AsMemory((int)start));
    }

    private bool Authorized(HttpContext context, string repository)
    {
        string? authorization = context.Request.Headers.Authorization.FirstOrDefault();
        switch (Auth)
        {
            case AuthMode.Basic:
                if (authorization == "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Username}:{Password}")))
                {
                    return true;
                }
                context.Response.Headers.WWWAuthenticate = "Basic realm=\"fake\"";
                context.Response.StatusCode = 401;
                return false;
            case AuthMode.Bearer:
                if (authorization is not null && authorization.StartsWith("Bearer ", StringComparison.Ordinal) && !RejectAllTokens)
                {
                    string token = authorization["Bearer ".Length..];
                    if (token == RegistryToken || _issuedTokens.TryGetValue(token, out DateTimeOffset expires) && expires > DateTimeOffset.UtcNow)
                    {
                        return true;
                    }
                }
                context.Response.Headers.WWWAuthenticate =
                    $"Bearer realm=\"{TokenRealm ?? $"http://{Host}/token"}\",service=\"fake-registry\",scope=\"repository:{repository}:pull\"";
                context.Response.StatusCode = 401;
                return false;
            default:
                return true;
        }
    }

    private async Task HandleTokenAsync(HttpContext context, string? body)
    {
        bool ok;
        if (context.Request.Method == "POST")
        {
            var form = body!.Split('&').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => Uri.UnescapeDataString(p[1].Replace('+', ' ')));
            ok = form.GetValueOrDefault("grant_type") == "refresh_token" && IdentityToken is not null && form.GetValueOrDefault("refresh_token") == IdentityToken;
        }
        else
        {
            string? authorization = context.Request.Headers.Authorization.FirstOrDefault();
            ok = authorization is null
                ? true // anonymous tokens are handed out; the registry decides what they may do
                : authorization == "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Username}:{Password}"));
        }
        if (!ok)
        {
            context.Response.StatusCode = 401;
            return;
        }
        string token = $"token-{Interlocked.Increment(ref _tokenCounter)}";
        _issuedTokens[token] = DateTimeOffset.UtcNow.AddSeconds(TokenExpiresIn);
        context.Response.ContentType = "application/json";
        string field = context.Request.Method == "POST" ? "access_token" : "token";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, object> { [field] = token, ["expires_in"] = TokenExpiresIn }));
    }

    public async ValueTask DisposeAsync()
    {
        // Stalled blob responses end only when their client goes: do not wait out the host's shutdown timeout.
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
    }
}
