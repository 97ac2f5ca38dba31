using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Crisp.ImageService.Manifests;
using Crisp.ImageService.References;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Crisp.ImageService.Tests.Pull;

/// <summary>
/// A minimal OCI distribution registry on 127.0.0.1 serving hand-built images, counting blob
/// requests and able to misbehave (wrong bytes, stalls) on purpose.
/// </summary>
public sealed class FakeRegistry : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, (byte[] Bytes, string MediaType)> _manifests = new();
    private readonly ConcurrentDictionary<string, byte[]> _blobs = new();

    public ConcurrentDictionary<string, int> BlobRequests { get; } = new();

    /// <summary>Blobs whose body is replaced by these bytes (a corrupt registry).</summary>
    public ConcurrentDictionary<string, byte[]> CorruptBlobs { get; } = new();

    /// <summary>Blobs served half-way and then never finished (a stalled connection).</summary>
    public ConcurrentDictionary<string, bool> StalledBlobs { get; } = new();

    /// <summary>Blobs whose first response waits for this gate (to line up concurrent pulls).</summary>
    public TaskCompletionSource? BlobGate { get; set; }

    private FakeRegistry(WebApplication app) => _app = app;

    public string Host { get; private set; } = "";

    public static async Task<FakeRegistry> StartAsync()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options => options.Listen(System.Net.IPAddress.Loopback, 0));
        WebApplication app = builder.Build();
        var registry = new FakeRegistry(app);
        app.Run(registry.HandleAsync);
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        registry.Host = new Uri(address).Authority;
        return registry;
    }

    /// <summary>Publishes an image built from <paramref name="layers"/> as repository:tag; returns its config digest (the image id).</summary>
    public string Push(string repository, string tag, params Layer[] layers)
    {
        var config = new
        {
            architecture = "amd64",
            os = "linux",
            config = new { Cmd = new[] { "sh" }, User = "1000" },
            rootfs = new { type = "layers", diff_ids = layers.Select(l => l.DiffId).ToArray() },
        };
        byte[] configBytes = JsonSerializer.SerializeToUtf8Bytes(config);
        string configDigest = Digests.Sha256Of(configBytes);
        _blobs[configDigest] = configBytes;
        foreach (Layer layer in layers) _blobs[layer.Descriptor.Digest] = layer.Blob;
        var manifest = new
        {
            schemaVersion = 2,
            mediaType = MediaTypes.OciManifest,
            config = new { mediaType = MediaTypes.OciConfig, digest = configDigest, size = configBytes.Length },
            layers = layers.Select(l => new { mediaType = l.Descriptor.MediaType, digest = l.Descriptor.Digest, size = l.Descriptor.Size }).ToArray(),
        };
        byte[] manifestBytes = JsonSerializer.SerializeToUtf8Bytes(manifest);
        string manifestDigest = Digests.Sha256Of(manifestBytes);
        _manifests[$"{repository}:{tag}"] = (manifestBytes, MediaTypes.OciManifest);
        _manifests[$"{repository}:{manifestDigest}"] = (manifestBytes, MediaTypes.OciManifest);
        return configDigest;
    }

    public int RequestsFor(string digest) => BlobRequests.GetValueOrDefault(digest);

    private async Task HandleAsync(HttpContext context)
    {
        string path = context.Request.Path.Value ?? "";
        if (path is "/v2/" or "/v2")
        {
            context.Response.StatusCode = 200;
            return;
        }
        int manifests = path.LastIndexOf("/manifests/", StringComparison.Ordinal);
        int blobs = path.LastIndexOf("/blobs/", StringComparison.Ordinal);
        if (manifests > 4)
        {
            string key = path[4..manifests] + ":" + path[(manifests + "/manifests/".Length)..];
            if (!_manifests.TryGetValue(key, out var manifest))
            {
                context.Response.StatusCode = 404;
                return;
            }
            context.Response.ContentType = manifest.MediaType;
            context.Response.Headers["Docker-Content-Digest"] = Digests.Sha256Of(manifest.Bytes);
            context.Response.ContentLength = manifest.Bytes.Length;
            if (!HttpMethods.IsHead(context.Request.Method)) await context.Response.Body.WriteAsync(manifest.Bytes);
            return;
        }
        if (blobs > 4)
        {
            string digest = path[(blobs + "/blobs/".Length)..];
            if (!_blobs.TryGetValue(digest, out byte[]? bytes))
            {
                context.Response.StatusCode = 404;
                return;
            }
            BlobRequests.AddOrUpdate(digest, 1, (_, n) => n + 1);
            if (BlobGate is { } gate) await gate.Task;
            if (CorruptBlobs.TryGetValue(digest, out byte[]? corrupt)) bytes = corrupt;
            context.Response.ContentType = "application/octet-stream";
            context.Response.ContentLength = bytes.Length;
            if (StalledBlobs.ContainsKey(digest))
            {
                await context.Response.Body.WriteAsync(bytes.AsMemory(0, bytes.Length / 2));
                await context.Response.Body.FlushAsync();
                await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { });
                return;
            }
            await context.Response.Body.WriteAsync(bytes);
            return;
        }
        context.Response.StatusCode = 404;
        await context.Response.WriteAsync("unknown path", Encoding.UTF8);
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
    }
}
