using System.Security.Cryptography;
using System.Text;
using Crisp.ImageService.Api;
using Crisp.ImageService.Manifests;
using Crisp.ImageService.References;
using Crisp.ImageService.Registry;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Crisp.ImageService.Tests.RegistryTests;

public sealed class RegistryClientTests : IAsyncLifetime
{
    private static readonly Platform Amd64 = new("linux", "amd64");
    private static readonly RegistryClientOptions FastOptions = new()
    {
        RetryBaseDelay = TimeSpan.FromMilliseconds(1),
        MaxRetryDelay = TimeSpan.FromMilliseconds(20),
        ResponseTimeout = TimeSpan.FromSeconds(10),
    };

    private FakeRegistry _registry = null!;
    private RegistryClient _client = null!;

    public async Task InitializeAsync()
    {
        _registry = await FakeRegistry.StartAsync();
        _client = NewClient(RegistryConfiguration.Empty);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _registry.DisposeAsync();
    }

    private static RegistryClient NewClient(RegistryConfiguration configuration, RegistryClientOptions? options = null) =>
        new(configuration, NullLogger<RegistryClient>.Instance, options ?? FastOptions, TimeProvider.System);

    private ImageReference Ref(string repositoryAndTag) => ImageReference.Parse($"{_registry.Host}/{repositoryAndTag}");

    private sealed record PushedImage(string ManifestDigest, byte[] ManifestBytes, Descriptor Config, Descriptor Layer, byte[] LayerBytes);

    private static PushedImage Push(FakeRegistry registry, string repository, string? tag, string mediaType = MediaTypes.OciManifest, int layerSize = 5000, string seed = "x")
    {
        byte[] config = Encoding.UTF8.GetBytes($$"""{"architecture":"amd64","os":"linux","seed":"{{seed}}"}""");
        byte[] layer = RandomNumberGenerator.GetBytes(layerSize);
        var configDescriptor = new Descriptor(mediaType == MediaTypes.DockerManifest ? MediaTypes.DockerConfig : MediaTypes.OciConfig, registry.AddBlob(config), config.Length);
        var layerDescriptor = new Descriptor(mediaType == MediaTypes.DockerManifest ? MediaTypes.DockerLayerGzip : MediaTypes.OciLayerGzip, registry.AddBlob(layer), layer.Length);
        byte[] manifest = Encoding.UTF8.GetBytes($$"""
            {"schemaVersion":2,"mediaType":"{{mediaType}}",
             "config":{"mediaType":"{{configDescriptor.MediaType}}","digest":"{{configDescriptor.Digest}}","size":{{config.Length}}},
             "layers":[{"mediaType":"{{layerDescriptor.MediaType}}","digest":"{{layerDescriptor.Digest}}","size":{{layer.Length}}}]}
            """);
        string digest = registry.AddManifest(repository, manifest, mediaType, tag);
        return new PushedImage(digest, manifest, configDescriptor, layerDescriptor, layer);
    }

    private static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    [Fact]
    public async Task ResolvesATaggedManifestAnonymously()
    {
        PushedImage image = Push(_registry, "library/app", "v1");
        ResolvedManifest resolved = await _client.ResolveAsync(Ref("library/app:v1"), Amd64, null, CancellationToken.None);

        Assert.Equal(image.ManifestDigest, resolved.ManifestDigest);
        Assert.Equal($"{_registry.Host}/library/app@{image.ManifestDigest}", resolved.RepoDigest);
        Assert.Equal(image.ManifestBytes, resolved.ManifestBytes);
        Assert.Equal(image.Layer, resolved.Manifest.Layers.Single());
        Assert.Equal(image.Config, resolved.Manifest.Config);
        Assert.Equal(new RegistryEndpoint(_registry.Host, "library/app", false, false), resolved.Endpoint);
        Assert.Null(resolved.IndexBytes);

        var request = _registry.Requests.Single();
        Assert.Equal("/v2/library/app/manifests/v1", request.Path);
        foreach (string type in MediaTypes.AcceptedManifestTypes)
        {
            Assert.Contains(type, request.Accept);
        }
    }

    [Fact]
    public async Task ResolvesByDigestAndOpensBlobs()
    {
        PushedImage image = Push(_registry, "app", tag: null, mediaType: MediaTypes.DockerManifest);
        ResolvedManifest resolved = await _client.ResolveAsync(Ref("app@" + image.ManifestDigest), Amd64, null, CancellationToken.None);
        Assert.Equal(MediaTypes.DockerManifest, resolved.Manifest.MediaType);

        await using Stream blob = await _client.OpenBlobAsync(resolved, image.Layer, CancellationToken.None);
        Assert.Equal(image.LayerBytes, await ReadAllAsync(blob));
    }

    [Fact]
    public async Task FollowsAnIndexToThePlatformManifest()
    {
        PushedImage amd = Push(_registry, "multi", null, seed: "amd64");
        PushedImage arm = Push(_registry, "multi", null, seed: "arm64");
        byte[] index = Encoding.UTF8.GetBytes($$"""
            {"schemaVersion":2,"mediaType":"{{MediaTypes.OciIndex}}","manifests":[
              {"mediaType":"{{MediaTypes.OciManifest}}","digest":"{{amd.ManifestDigest}}","size":{{amd.ManifestBytes.Length}},"platform":{"os":"linux","architecture":"amd64"} },
              {"mediaType":"{{MediaTypes.OciManifest}}","digest":"{{arm.ManifestDigest}}","size":{{arm.ManifestBytes.Length}},"platform":{"os":"linux","architecture":"arm64","variant":"v8"} }
            ]}
            """);
        string indexDigest = _registry.AddManifest("multi", index, MediaTypes.OciIndex, "latest");

        ResolvedManifest resolved = await _client.ResolveAsync(Ref("multi"), new Platform("linux", "arm64"), null, CancellationToken.None);
        Assert.Equal(arm.ManifestDigest, resolved.ManifestDigest);
        Assert.Equal($"{_registry.Host}/multi@{indexDigest}", resolved.RepoDigest);
        Assert.Equal(index, resolved.IndexBytes);
        Assert.Equal(MediaTypes.OciIndex, resolved.IndexMediaType);

        var error = await Assert.ThrowsAsync<ImageServiceException>(() =>
            _client.ResolveAsync(Ref("multi"), new Platform("linux", "s390x"), null, CancellationToken.None));
        Assert.Equal(ImageErrorKind.NotFound, error.Kind);
        Assert.Contains("no manifest for linux/s390x in index " + indexDigest, error.Message);
        Assert.Contains("linux/arm64/v8", error.Message);
    }

    [Fact]
    public async Task IndexEntryWhoseBytesDoNotMatchItsSizeIsDataLoss()
    {
        PushedImage amd = Push(_registry, "lying", null);
        byte[] index = Encoding.UTF8.GetBytes($$"""
            {"schemaVersion":2,"mediaType":"{{MediaTypes.DockerManifestList}}","manifests":[
              {"mediaType":"{{MediaTypes.OciManifest}}","digest":"{{amd.ManifestDigest}}","size":{{amd.ManifestBytes.Length + 1}},"platform":{"os":"linux","architecture":"amd64"} }]}
            """);
        _registry.AddManifest("lying", index, MediaTypes.DockerManifestList, "latest");
        var error = await Assert.ThrowsAsync<ImageServiceException>(() => _client.ResolveAsync(Ref("lying"), Amd64, null, CancellationToken.None));
        Assert.Equal(ImageErrorKind.DataLoss, error.Kind);
        Assert.Contains("size mismatch", error.Message);
    }

    [Fact]
    public async Task ManifestDigestMismatchIsDataLoss()
    {
        Push(_registry, "app", "v1");
        _registry.LieAboutManifestDigest = "sha256:" + new string('f', 64);
        var error = await Assert.ThrowsAsync<ImageServiceException>(() => _client.ResolveAsync(Ref("app:v1"), Amd64, null, CancellationToken.None));
        Assert.Equal(ImageErrorKind.DataLoss, error.Kind);
        Assert.Contains("manifest digest mismatch", error.Message);

        // Pulling by digest checks the bytes against the requested digest, whatever the header says.
        PushedImage other = Push(_registry, "app", "v2", seed: "other");
        _registry.AddManifest("app", other.ManifestBytes, MediaTypes.OciManifest, "sha256:" + new string('e', 64));
        var byDigest = await Assert.ThrowsAsync<ImageServiceException>(() =>
            _client.ResolveAsync(Ref("app@sha256:" + new string('e', 64)), Amd64, null, CancellationToken.None));
        Assert.Equal(ImageErrorKind.DataLoss, byDigest.Kind);
        Assert.Contains("expected sha256:eeee", byDigest.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ManifestsOver4MiBAreRefused(bool chunked)
    {
        _registry.ChunkedManifests = chunked;
        byte[] huge = Encoding.UTF8.GetBytes("{\"schemaVersion\":2,\"pad\":\"" + new string('a', ManifestParser.MaxManifestBytes) + "\"}");
        _registry.AddManifest("big", huge, MediaTypes.OciManifest, "latest");
        var error = await Assert.ThrowsAsync<ImageServiceException>(() => _client.ResolveAsync(Ref("big"), Amd64, null, CancellationToken.None));
        Assert.Equal(ImageErrorKind.ResourceExhausted, error.Kind);
        Assert.Contains("manifest larger than 4 MiB", error.Message);
    }

    [Fact]
    public async Task Schema1IsRefused()
    {
        _registry.AddManifest("old", Encoding.UTF8.GetBytes("""{"schemaVersion":1,"name":"old","tag":"latest","fsLayers":[]}"""),
            MediaTypes.DockerSchema1SignedManifest, "latest");
        var error = await Assert.ThrowsAsync<ImageServiceException>(() => _client.ResolveAsync(Ref("old"), Amd64, null, CancellationToken.None));
        Assert.Equal(ImageErrorKind.FailedPrecondition, error.Kind);
        Assert.Contains("schema1 manifests are not supported", error.Message);
    }

    [Fact]
    public async Task MissingImageIsNotFoundNamingImageAndRegistry()
    {
        var error = await Assert.ThrowsAsync<ImageServiceException>(() => _client.ResolveAsync(Ref("nothing:here"), Amd64, null, CancellationToken.None));
        Assert.Equal(ImageErrorKind.NotFound, error.Kind);
        Assert.Contains($"image {_registry.Host}/nothing:here not found in registry {_registry.Host}", error.Message);
    }

    [Fact]
    public async Task BearerTokenFlowUsesCredentialsAndCachesTheToken()
    {
        Push(_registry, "private/app", "v1");
        _registry.Auth = FakeRegistry.AuthMode.Bearer;
        var credentials = new RegistryCredentials(Username: "user", Password: "secret");

        await _client.ResolveAsync(Ref("private/app:v1"), Amd64, credentials, CancellationToken.None);
        await _client.ResolveAsync(Ref("private/app:v1"), Amd64, credentials, CancellationToken.None);

        Assert.Equal(1, _registry.TokenRequests);
        var tokenRequest = _registry.Requests.Single(r => r.Path == "/token");
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("user:secret")), tokenRequest.Authorization);
        Assert.Contains("scope=repository%3Aprivate%2Fapp%3Apull", tokenRequest.Query);
        Assert.Contains("service=fake-registry", tokenRequest.Query);
        // First manifest request is challenged, the retry and the second resolve carry the token up front.
        var manifestRequests = _registry.Requests.Where(r => r.Path.Contains("/manifests/")).ToList();
        Assert.Equal(3, manifestRequests.Count);
        Assert.Null(manifestRequests[0].Authorization);
        Assert.Equal("Bearer token-1", manifestRequests[1].Authorization);
        Assert.Equal("Bearer token-1", manifestRequests[2].Authorization);
    }

    [Fact]
    public async Task CredentialsInAuthFieldAreDecoded()
    {
        Push(_registry, "app", "v1");
        _registry.Auth = FakeRegistry.AuthMode.Bearer;
        var credentials = new RegistryCredentials(Auth: Convert.ToBase64String(Encoding.UTF8.GetBytes("user:secret")));
        await _client.ResolveAsync(Ref("app:v1"), Amd64, credentials, CancellationToken.None);
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("user:secret")), _registry.Requests.Single(r => r.Path == "/token").Authorization);
    }

    [Fact]
    public async Task WrongCredentialsAreUnauthenticated()
    {
        Push(_registry, "app", "v1");
        _registry.Auth = FakeRegistry.AuthMode.Bearer;
        var error = await Assert.ThrowsAsync<ImageServiceException>(() =>
            _client.ResolveAsync(Ref("app:v1"), Amd64, new RegistryCredentials("user", "wrong"), CancellationToken.None));
        Assert.Equal(ImageErrorKind.Unauthenticated, error.Kind);
        Assert.Contains($"registry {_registry.Host} refused credentials for repository app", error.Message);
        Assert.DoesNotContain("wrong", error.Message);
    }

    [Fact]
    public async Task RegistryRefusingItsOwnTokenIsUnauthenticated()
    {
        Push(_registry, "app", "v1");
        _registry.Auth = FakeRegistry.AuthMode.Bearer;
        _registry.RejectAllTokens = true;
        var error = await Assert.ThrowsAsync<ImageServiceException>(() => _client.ResolveAsync(Ref("app:v1"), Amd64, null, CancellationToken.None));
        Assert.Equal(ImageErrorKind.Unauthenticated, error.Kind);
        Assert.Contains("refused anonymous access to repository app", error.Message);
        Assert.Equal(2, _registry.Requests.Count(r => r.Path.Contains("/manifests/")));
    }

    [Fact]
    public async Task IdentityTokenIsExchangedWithOAuthPost()
    {
        Push(_registry, "app", "v1");
        _registry.Auth = FakeRegistry.AuthMode.Bearer;
        _registry.IdentityToken = "refresh-me";
        await _client.ResolveAsync(Ref("app:v1"), Amd64, new RegistryCredentials(IdentityToken: "refresh-me"), CancellationToken.None);
        var post = _registry.Requests.Single(r => r.Path == "/token");
        Assert.Equal("POST", post.Method);
        Assert.Contains("grant_type=refresh_token", post.Body);
        Assert.Contains("refresh_token=refresh-me", post.Body);
        Assert.Contains("scope=repository%3Aapp%3Apull", post.Body);
    }

    [Fact]
    public async Task RegistryTokenIsUsedAsBearerDirectly()
    {
        Push(_registry, "app", "v1");
        _registry.Auth = FakeRegistry.AuthMode.Bearer;
        _registry.RegistryToken = "direct-token";
        await _client.ResolveAsync(Ref("app:v1"), Amd64, new RegistryCredentials(RegistryToken: "direct-token"), CancellationToken.None);
        Assert.Equal(0, _registry.TokenRequests);
        Assert.Equal("Bearer direct-token", _registry.Requests.Last().Authorization);
    }

    [Fact]
    public async Task BasicAuthSendsCredentialsAndRequiresThem()
    {
        PushedImage image = Push(_registry, "app", "v1");
        _registry.Auth = FakeRegistry.AuthMode.Basic;
        var credentials = new RegistryCredentials("user", "secret");
        ResolvedManifest resolved = await _client.ResolveAsync(Ref("app:v1"), Amd64, credentials, CancellationToken.None);
        await using (Stream blob = await _client.OpenBlobAsync(resolved, image.Layer, CancellationToken.None))
        {
            Assert.Equal(image.LayerBytes, await ReadAllAsync(blob));
        }

        var anonymous = await Assert.ThrowsAsync<ImageServiceException>(() => _client.ResolveAsync(Ref("app:v1"), Amd64, null, CancellationToken.None));
        Assert.Equal(ImageErrorKind.Unauthenticated, anonymous.Kind);
        var wrong = await Assert.ThrowsAsync<ImageServiceException>(() =>
            _client.ResolveAsync(Ref("app:v1"), Amd64, new RegistryCredentials("user", "nope"), CancellationToken.None));
        Assert.Equal(ImageErrorKind.Unauthenticated, wrong.Kind);
        Assert.Contains("refused credentials", wrong.Message);
    }

    [Fact]
    public async Task ForbiddenIsPermissionDenied()
    {
        Push(_registry, "secret/app", "v1");
        _registry.ForbiddenRepositories.Add("secret/app");
        var error = await Assert.ThrowsAsync<ImageServiceException>(() => _client.ResolveAsync(Ref("secret/app:v1"), Amd64, null, CancellationToken.None));
        Assert.Equal(ImageErrorKind.PermissionDenied, error.Kind);
        Assert.Contains("denied access to repository secret/app", error.Message);
    }

    [Fact]
    public async Task TransientServerErrorsAreRetried()
    {
        PushedImage image = Push(_registry, "app", "v1");
        _registry.FailNext = 2;
        ResolvedManifest resolved = await _client.ResolveAsync(Ref("app:v1"), Amd64, null, CancellationToken.None);
        Assert.Equal(image.ManifestDigest, resolved.ManifestDigest);
        Assert.Equal(3, _registry.Requests.Count);
    }

    [Fact]
    public async Task PersistentServerErrorsBecomeUnavailableAfterTheLastAttempt()
    {
        Push(_registry, "app", "v1");
        _registry.FailNext = 3;
        var error = await Assert.ThrowsAsync<ImageServiceException>(() => _client.ResolveAsync(Ref("app:v1"), Amd64, null, CancellationToken.None));
        Assert.Equal(ImageErrorKind.Unavailable, error.Kind);
        Assert.Contains("HTTP 503", error.Message);
        Assert.Equal(3, _registry.Requests.Count);
    }

    [Fact]
    public async Task TooManyRequestsIsRetriedThenResourceExhausted()
    {
        Push(_registry, "app", "v1");
        _registry.FailStatus = System.Net.HttpStatusCode.TooManyRequests;
        _registry.FailNext = 10;
        var error = await Assert.ThrowsAsync<ImageServiceException>(() => _client.ResolveAsync(Ref("app:v1"), Amd64, null, CancellationToken.None));
        Assert.Equal(ImageErrorKind.ResourceExhausted, error.Kind);
        Assert.Equal(3, _registry.Requests.Count);
    }

    [Fact]
    public async Task UnreachableRegistryIsUnavailable()
    {
        // Reserve a port, then close it so nothing listens there.
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var error = await Assert.ThrowsAsync<ImageServiceException>(() =>
            _client.ResolveAsync(ImageReference.Parse($"127.0.0.1:{port}/app"), Amd64, null, CancellationToken.None));
        Assert.Equal(ImageErrorKind.Unavailable, error.Kind);
        Assert.Contains($"cannot reach registry 127.0.0.1:{port}", error.Message);
    }

    [Fact]
    public async Task BlobDownloadResumesWithRangeAfterAConnectionDrop()
    {
        PushedImage image = Push(_registry, "app", "v1", layerSize: 200_000);
        ResolvedManifest resolved = await _client.ResolveAsync(Ref("app:v1"), Amd64, null, CancellationToken.None);
        _registry.CutBlobsNext = 2;
        _registry.CutBlobAfterBytes = 70_000;

        await using Stream blob = await _client.OpenBlobAsync(resolved, image.Layer, CancellationToken.None);
        Assert.Equal(image.LayerBytes, await ReadAllAsync(blob));

        // Where each resumption starts depends on how much arrived before the reset; it must move forward.
        var ranges = _registry.Requests.Where(r => r.Path.Contains("/blobs/")).Select(r => r.Range).ToList();
        Assert.Equal(3, ranges.Count);
        Assert.Null(ranges[0]);
        long[] offsets = ranges.Skip(1).Select(r => long.Parse(r!["bytes=".Length..^1], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.True(offsets[0] > 0 && offsets[1] > offsets[0] && offsets[1] < 200_000, string.Join(",", offsets));
    }

    [Fact]
    public async Task BlobDownloadSkipsAheadWhenTheServerIgnoresRange()
    {
        PushedImage image = Push(_registry, "app", "v1", layerSize: 100_000);
        ResolvedManifest resolved = await _client.ResolveAsync(Ref("app:v1"), Amd64, null, CancellationToken.None);
        _registry.IgnoreRange = true;
        _registry.CutBlobsNext = 1;
        _registry.CutBlobAfterBytes = 30_000;

        await using Stream blob = await _client.OpenBlobAsync(resolved, image.Layer, CancellationToken.None);
        Assert.Equal(image.LayerBytes, await ReadAllAsync(blob));
        Assert.Equal(2, _registry.Requests.Count(r => r.Path.Contains("/blobs/")));
    }

    [Fact]
    public async Task StalledBlobDownloadIsResumed()
    {
        PushedImage image = Push(_registry, "app", "v1", layerSize: 50_000);
        using RegistryClient client = NewClient(RegistryConfiguration.Empty, new RegistryClientOptions
        {
            RetryBaseDelay = TimeSpan.FromMilliseconds(1),
            BlobReadIdleTimeout = TimeSpan.FromMilliseconds(300),
        });
        ResolvedManifest resolved = await client.ResolveAsync(Ref("app:v1"), Amd64, null, CancellationToken.None);
        _registry.StallBlobsNext = 1;
        _registry.CutBlobAfterBytes = 10_000;

        var started = System.Diagnostics.Stopwatch.StartNew();
        await using Stream blob = await client.OpenBlobAsync(resolved, image.Layer, CancellationToken.None);
        Assert.Equal(image.LayerBytes, await ReadAllAsync(blob));
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(10), started.Elapsed.ToString());
        Assert.Equal("bytes=10000-", _registry.Requests.Last(r => r.Path.Contains("/blobs/")).Range);
    }

    [Fact]
    public async Task BlobDownloadGivesUpAfterTooManyFailedResumptions()
    {
        PushedImage image = Push(_registry, "app", "v1", layerSize: 10_000);
        using RegistryClient client = NewClient(RegistryConfiguration.Empty, new RegistryClientOptions
        {
            RetryBaseDelay = TimeSpan.FromMilliseconds(1),
            MaxRetryDelay = TimeSpan.FromMilliseconds(5),
            MaxBlobResumes = 2,
        });
        ResolvedManifest resolved = await client.ResolveAsync(Ref("app:v1"), Amd64, null, CancellationToken.None);
        _registry.CutBlobsNext = 1;
        _registry.CutBlobAfterBytes = 4000;
        _registry.BlobsUnavailableAfterCut = true;

        await using Stream blob = await client.OpenBlobAsync(resolved, image.Layer, CancellationToken.None);
        var error = await Assert.ThrowsAsync<ImageServiceException>(() => ReadAllAsync(blob));
        Assert.Equal(ImageErrorKind.Unavailable, error.Kind);
        Assert.Contains(image.Layer.Digest, error.Message);
        Assert.Contains("after 2 resumptions", error.Message);
        // The first response, then the transport's 3 tries for each of the 2 resumptions.
        Assert.Equal(1 + 2 * 3, _registry.Requests.Count(r => r.Path.Contains("/blobs/")));
    }

    [Fact]
    public async Task BlobLongerThanItsDescriptorIsDataLoss()
    {
        PushedImage image = Push(_registry, "app", "v1", layerSize: 1000);
        ResolvedManifest resolved = await _client.ResolveAsync(Ref("app:v1"), Amd64, null, CancellationToken.None);
        // Refused at open when the registry announces the length, else while reading.
        var error = await Assert.ThrowsAsync<ImageServiceException>(async () =>
        {
            await using Stream blob = await _client.OpenBlobAsync(resolved, image.Layer with { Size = 500 }, CancellationToken.None);
            await ReadAllAsync(blob);
        });
        Assert.Equal(ImageErrorKind.DataLoss, error.Kind);
    }

    [Fact]
    public async Task BlobShorterThanItsDescriptorIsDataLossWithoutResumeAttempts()
    {
        PushedImage image = Push(_registry, "app", "v1", layerSize: 1000);
        ResolvedManifest resolved = await _client.ResolveAsync(Ref("app:v1"), Amd64, null, CancellationToken.None);
        var error = await Assert.ThrowsAsync<ImageServiceException>(async () =>
        {
            await using Stream blob = await _client.OpenBlobAsync(resolved, image.Layer with { Size = image.Layer.Size + 500 }, CancellationToken.None);
            await ReadAllAsync(blob);
        });
        Assert.Equal(ImageErrorKind.DataLoss, error.Kind);
        Assert.Contains(image.Layer.Digest, error.Message);
        Assert.Contains($"serves {image.Layer.Size} bytes", error.Message);
    }

    [Fact]
    public async Task MissingBlobIsNotFound()
    {
        Push(_registry, "app", "v1");
        ResolvedManifest resolved = await _client.ResolveAsync(Ref("app:v1"), Amd64, null, CancellationToken.None);
        var missing = new Descriptor(MediaTypes.OciLayerGzip, "sha256:" + new string('0', 64), 10);
        var error = await Assert.ThrowsAsync<ImageServiceException>(() => _client.OpenBlobAsync(resolved, missing, CancellationToken.None));
        Assert.Equal(ImageErrorKind.NotFound, error.Kind);
        Assert.Contains(missing.Digest, error.Message);
    }

    [Fact]
    public async Task MirrorsAreTriedFirstAndTheLocationIsTheFallback()
    {
        await using FakeRegistry mirror = await FakeRegistry.StartAsync();
        PushedImage onlyUpstream = Push(_registry, "team/app", "v1", seed: "upstream");
        PushedImage mirrored = Push(mirror, "cache/team/mirrored", "v1", seed: "mirror");
        Push(_registry, "team/mirrored", "v1", seed: "upstream-copy");
        mirror.Auth = FakeRegistry.AuthMode.Basic;
        mirror.Username = "user";
        mirror.Password = "secret";

        var configuration = RegistryConfiguration.FromTexts([($$"""
            [[registry]]
            prefix = "registry.example.test"
            location = "{{_registry.Host}}"

            [[registry.mirror]]
            location = "{{mirror.Host}}/cache"
            """, "test.conf")]);
        using RegistryClient client = NewClient(configuration);
        var credentials = new RegistryCredentials("user", "secret");

        // The mirror requires credentials it must never be given (they belong to registry.example.test): it fails, upstream serves.
        ResolvedManifest fromUpstream = await client.ResolveAsync(ImageReference.Parse("registry.example.test/team/app:v1"), Amd64, credentials, CancellationToken.None);
        Assert.Equal(onlyUpstream.ManifestDigest, fromUpstream.ManifestDigest);
        Assert.False(fromUpstream.Endpoint.IsMirror);
        Assert.Equal("registry.example.test/team/app@" + onlyUpstream.ManifestDigest, fromUpstream.RepoDigest);
        Assert.All(mirror.Requests, r => Assert.Null(r.Authorization));

        mirror.Auth = FakeRegistry.AuthMode.None;
        ResolvedManifest fromMirror = await client.ResolveAsync(ImageReference.Parse("registry.example.test/team/mirrored:v1"), Amd64, credentials, CancellationToken.None);
        Assert.Equal(mirrored.ManifestDigest, fromMirror.ManifestDigest);
        Assert.Equal(new RegistryEndpoint(mirror.Host, "cache/team/mirrored", false, true), fromMirror.Endpoint);
        await using Stream blob = await client.OpenBlobAsync(fromMirror, mirrored.Layer, CancellationToken.None);
        Assert.Equal(mirrored.LayerBytes, await ReadAllAsync(blob));
        Assert.Contains(mirror.Requests, r => r.Path == $"/v2/cache/team/mirrored/blobs/{mirrored.Layer.Digest}");
    }

    [Fact]
    public async Task BlockedRegistryIsRefusedBeforeAnyRequest()
    {
        var configuration = RegistryConfiguration.FromTexts([($"[[registry]]\nprefix = \"{_registry.Host}\"\nblocked = true\n", "test.conf")]);
        using RegistryClient client = NewClient(configuration);
        var error = await Assert.ThrowsAsync<ImageServiceException>(() => client.ResolveAsync(Ref("app:v1"), Amd64, null, CancellationToken.None));
        Assert.Equal(ImageErrorKind.PermissionDenied, error.Kind);
        Assert.Empty(_registry.Requests);
    }

    [Fact]
    public async Task ExpiredTokensAreFetchedAgain()
    {
        Push(_registry, "app", "v1");
        _registry.Auth = FakeRegistry.AuthMode.Bearer;
        _registry.TokenExpiresIn = 120;
        var time = new ShiftableTime();
        using RegistryClient client = new(RegistryConfiguration.Empty, NullLogger<RegistryClient>.Instance, FastOptions, time);

        await client.ResolveAsync(Ref("app:v1"), Amd64, null, CancellationToken.None);
        time.Offset = TimeSpan.FromSeconds(60);
        await client.ResolveAsync(Ref("app:v1"), Amd64, null, CancellationToken.None);
        Assert.Equal(1, _registry.TokenRequests);

        time.Offset = TimeSpan.FromSeconds(121);
        await client.ResolveAsync(Ref("app:v1"), Amd64, null, CancellationToken.None);
        Assert.Equal(2, _registry.TokenRequests);
    }

    [Fact]
    public async Task An_expired_token_leaves_the_cache_when_another_token_is_fetched()
    {
        Push(_registry, "app", "v1");
        Push(_registry, "other", "v1");
        _registry.Auth = FakeRegistry.AuthMode.Bearer;
        _registry.TokenExpiresIn = 120;
        var time = new ShiftableTime();
        using RegistryClient client = new(RegistryConfiguration.Empty, NullLogger<RegistryClient>.Instance, FastOptions, time);

        await client.ResolveAsync(Ref("app:v1"), Amd64, null, CancellationToken.None);
        Assert.Equal(1, client.CachedTokenCount);

        time.Offset = TimeSpan.FromSeconds(121);
        await client.ResolveAsync(Ref("other:v1"), Amd64, null, CancellationToken.None);
        Assert.Equal(1, client.CachedTokenCount);
    }

    [Fact]
    public async Task TokensAreCachedPerCredentials()
    {
        Push(_registry, "app", "v1");
        _registry.Auth = FakeRegistry.AuthMode.Bearer;
        await _client.ResolveAsync(Ref("app:v1"), Amd64, null, CancellationToken.None);
        await _client.ResolveAsync(Ref("app:v1"), Amd64, new RegistryCredentials("user", "secret"), CancellationToken.None);
        Assert.Equal(2, _registry.TokenRequests);
        Assert.Null(_registry.Requests.Where(r => r.Path == "/token").First().Authorization);
        Assert.NotNull(_registry.Requests.Where(r => r.Path == "/token").Last().Authorization);
    }

    [Fact]
    public async Task BlobRedirectsAreFollowedWithoutLeakingCredentials()
    {
        await using FakeRegistry storage = await FakeRegistry.StartAsync();
        PushedImage image = Push(_registry, "app", "v1");
        storage.AddBlob(image.LayerBytes);
        _registry.Auth = FakeRegistry.AuthMode.Basic;
        _registry.RedirectBlobsTo = $"http://{storage.Host}";

        ResolvedManifest resolved = await _client.ResolveAsync(Ref("app:v1"), Amd64, new RegistryCredentials("user", "secret"), CancellationToken.None);
        await using Stream blob = await _client.OpenBlobAsync(resolved, image.Layer, CancellationToken.None);
        Assert.Equal(image.LayerBytes, await ReadAllAsync(blob));
        var redirected = Assert.Single(storage.Requests);
        Assert.Null(redirected.Authorization);
    }

    [Fact]
    public async Task CancellationIsNotRetried()
    {
        Push(_registry, "app", "v1");
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _client.ResolveAsync(Ref("app:v1"), Amd64, null, cts.Token));
    }
}
