using Crisp.TestSupport.Logging;
using System.Text;
using Crisp.ImageService.Api;
using Crisp.ImageService.Manifests;
using Crisp.ImageService.References;
using Crisp.ImageService.Registry;
using Xunit;

namespace Crisp.ImageService.Tests.RegistryTests;

/// <summary>Registry documents read whole into memory stop at their limit, and the hit is logged by the limit's name.</summary>
public sealed class RegistrySizeLimitTests : IAsyncLifetime
{
    private static readonly Platform Amd64 = new("linux", "amd64");
    private const string SizeLimitHit = "SizeLimitHit";

    private readonly RecordingLogger<RegistryClient> _log = new();
    private FakeRegistry _registry = null!;
    private RegistryClient _client = null!;

    public async Task InitializeAsync()
    {
        _registry = await FakeRegistry.StartAsync();
        _client = new RegistryClient(RegistryConfiguration.Empty, _log,
            new RegistryClientOptions { RetryBaseDelay = TimeSpan.FromMilliseconds(1), MaxRetryDelay = TimeSpan.FromMilliseconds(20) },
            TimeProvider.System);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _registry.DisposeAsync();
    }

    private ImageReference Ref(string repositoryAndTag) => ImageReference.Parse($"{_registry.Host}/{repositoryAndTag}");

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ATokenResponseOverTheLimitFailsThePullWithoutBeingReadWhole(bool announced)
    {
        TinyImage.Push(_registry);
        const int sent = 64 * 1024 * 1024;
        // Well past the limit and the loopback socket buffers: a client still connected after this much is reading it all.
        const int probe = 8 * 1024 * 1024;
        var hungUpEarly = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        _registry.Auth = FakeRegistry.AuthMode.Bearer;
        _registry.RegistryToken = "accepted";
        _registry.TokenHandler = async context =>
        {
            // Valid JSON padded with whitespace: read whole, it would yield a token the registry accepts.
            byte[] json = """{"token":"accepted","expires_in":300}"""u8.ToArray();
            byte[] padding = new byte[64 * 1024];
            Array.Fill(padding, (byte)' ');
            context.Response.ContentType = "application/json";
            if (announced)
            {
                context.Response.ContentLength = json.Length + (long)sent;
            }
            try
            {
                await context.Response.Body.WriteAsync(json);
                for (long total = 0; total < sent; total += padding.Length)
                {
                    if (total == probe)
                    {
                        // Writes to a closed connection succeed silently in Kestrel; the abort is the signal.
                        bool aborted = await Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted).ContinueWith(t => t.IsCanceled);
                        hungUpEarly.TrySetResult(aborted);
                        if (aborted) return;
                    }
                    await context.Response.Body.WriteAsync(padding);
                }
            }
            catch (Exception e) when (e is IOException or OperationCanceledException)
            {
                // The client hung up mid-write.
            }
            hungUpEarly.TrySetResult(false);
        };

        var error = await Assert.ThrowsAsync<ImageServiceException>(() =>
            _client.ResolveAsync(Ref("app:v1"), Amd64, new RegistryCredentials("user", "secret"), CancellationToken.None));

        Assert.Equal(ImageErrorKind.ResourceExhausted, error.Kind);
        Assert.Contains($"token service http://{_registry.Host}/token of registry {_registry.Host}: token response larger than 1 MiB", error.Message);
        Assert.Contains(_log.Events, e => e.Name == SizeLimitHit && e.Message.Contains("MaxTokenResponseBytes"));
        Assert.True(await hungUpEarly.Task.WaitAsync(TimeSpan.FromSeconds(30)), "the client read the token response to its end");
    }

    [Fact]
    public async Task AManifestOverTheLimitIsLoggedByTheLimitsName()
    {
        _registry.ChunkedManifests = true;
        byte[] huge = Encoding.UTF8.GetBytes("{\"schemaVersion\":2,\"pad\":\"" + new string('a', ManifestParser.MaxManifestBytes) + "\"}");
        _registry.AddManifest("big", huge, MediaTypes.OciManifest, "latest");

        var error = await Assert.ThrowsAsync<ImageServiceException>(() => _client.ResolveAsync(Ref("big"), Amd64, null, CancellationToken.None));

        Assert.Equal(ImageErrorKind.ResourceExhausted, error.Kind);
        Assert.Contains("manifest larger than 4 MiB", error.Message);
        RecordingLogger<RegistryClient>.Event hit = Assert.Single(_log.Events, e => e.Name == SizeLimitHit);
        Assert.Contains("MaxManifestBytes", hit.Message);
        Assert.Contains($"image {_registry.Host}/big:latest from registry {_registry.Host}", hit.Message);
    }
}
