using Crisp.TestSupport.Logging;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Crisp.ImageService.Api;
using Crisp.ImageService.Manifests;
using Crisp.ImageService.References;
using Crisp.ImageService.Registry;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Crisp.ImageService.Tests.RegistryTests;

/// <summary>TLS verification and the insecure-registry rules, on 127.0.0.1 with loopback plain-HTTP turned off.</summary>
public sealed class RegistryTlsTests
{
    private static readonly Platform Amd64 = new("linux", "amd64");

    private const string FallingBackToHttp = "FallingBackToHttp";

    private static RegistryClient NewClient(string registriesConf, RecordingLogger<RegistryClient>? log = null, TimeProvider? time = null) => new(
        RegistryConfiguration.FromTexts([(registriesConf, "test.conf")]),
        log ?? (Microsoft.Extensions.Logging.ILogger<RegistryClient>)NullLogger<RegistryClient>.Instance,
        new RegistryClientOptions { RetryBaseDelay = TimeSpan.FromMilliseconds(1), MaxRetryDelay = TimeSpan.FromMilliseconds(20), PlainHttpForLoopback = false },
        time ?? TimeProvider.System);

    private static string Insecure(string host) => $"[[registry]]\nlocation = \"{host}\"\ninsecure = true\n";

    /// <summary>The same server under another host name: localhost instead of 127.0.0.1.</summary>
    private static string ElsewhereName(FakeRegistry registry) => $"localhost:{new Uri($"http://{registry.Host}").Port}";

    private static X509Certificate2 SelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=crisp-test-registry", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using X509Certificate2 certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        // Kestrel needs the key in a form it can hand to the TLS stack.
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null);
    }

    [Fact]
    public async Task UntrustedCertificateIsRefusedUnlessTheRegistryIsInsecure()
    {
        using X509Certificate2 certificate = SelfSigned();
        await using FakeRegistry registry = await FakeRegistry.StartAsync(certificate);
        string digest = TinyImage.Push(registry);
        ImageReference reference = ImageReference.Parse($"{registry.Host}/app:v1");

        using (RegistryClient verifying = NewClient(""))
        {
            var error = await Assert.ThrowsAsync<ImageServiceException>(() => verifying.ResolveAsync(reference, Amd64, null, CancellationToken.None));
            Assert.Equal(ImageErrorKind.Unavailable, error.Kind);
            Assert.Contains($"TLS connection to registry {registry.Host} failed", error.Message);
            // The handshake failed, so no HTTP request ever reached the registry.
            Assert.Empty(registry.Requests);
        }

        using RegistryClient insecure = NewClient(Insecure(registry.Host));
        ResolvedManifest resolved = await insecure.ResolveAsync(reference, Amd64, null, CancellationToken.None);
        Assert.Equal(digest, resolved.ManifestDigest);
    }

    [Fact]
    public async Task InsecureRegistryWithoutTlsFallsBackToPlainHttp()
    {
        await using FakeRegistry registry = await FakeRegistry.StartAsync();
        string digest = TinyImage.Push(registry);
        ImageReference reference = ImageReference.Parse($"{registry.Host}/app:v1");

        using (RegistryClient verifying = NewClient(""))
        {
            var error = await Assert.ThrowsAsync<ImageServiceException>(() => verifying.ResolveAsync(reference, Amd64, null, CancellationToken.None));
            Assert.Equal(ImageErrorKind.Unavailable, error.Kind);
        }

        using RegistryClient insecure = NewClient(Insecure(registry.Host));
        Assert.Equal(digest, (await insecure.ResolveAsync(reference, Amd64, null, CancellationToken.None)).ManifestDigest);
        Assert.Equal(digest, (await insecure.ResolveAsync(reference, Amd64, null, CancellationToken.None)).ManifestDigest);
        // Every request that reached the server was plain HTTP (TLS attempts never parse as HTTP requests).
        Assert.Equal(2, registry.Requests.Count(r => r.Path == "/v2/app/manifests/v1"));
    }

    [Fact]
    public async Task AnInsecureRegistrysCertificateSkipDoesNotReachItsTokenRealm()
    {
        using X509Certificate2 certificate = SelfSigned();
        await using FakeRegistry registry = await FakeRegistry.StartAsync(certificate);
        string digest = TinyImage.Push(registry);
        registry.Auth = FakeRegistry.AuthMode.Bearer;
        ImageReference reference = ImageReference.Parse($"{registry.Host}/app:v1");
        using RegistryClient client = NewClient(Insecure(registry.Host));

        // The realm on the insecure host itself is as unverified as the registry.
        registry.TokenRealm = $"https://{registry.Host}/token";
        Assert.Equal(digest, (await client.ResolveAsync(reference, Amd64, null, CancellationToken.None)).ManifestDigest);

        registry.TokenRealm = $"https://{ElsewhereName(registry)}/token";
        int tokenRequests = registry.TokenRequests;
        using RegistryClient fresh = NewClient(Insecure(registry.Host));
        var error = await Assert.ThrowsAsync<ImageServiceException>(() => fresh.ResolveAsync(reference, Amd64, null, CancellationToken.None));
        Assert.Equal(ImageErrorKind.Unavailable, error.Kind);
        Assert.Contains($"TLS connection to the token service https://{ElsewhereName(registry)} of registry {registry.Host} failed", error.Message);
        Assert.Equal(tokenRequests, registry.TokenRequests);
    }

    [Fact]
    public async Task AnInsecureRegistrysCertificateSkipDoesNotReachARedirectTarget()
    {
        using X509Certificate2 certificate = SelfSigned();
        await using FakeRegistry registry = await FakeRegistry.StartAsync(certificate);
        await using FakeRegistry storage = await FakeRegistry.StartAsync(certificate);
        TinyImage.Push(registry, out Descriptor config);
        storage.AddBlob("{}"u8.ToArray());
        registry.RedirectBlobsTo = $"https://{ElsewhereName(storage)}";
        var log = new RecordingLogger<RegistryClient>();
        using RegistryClient client = NewClient(Insecure(registry.Host), log);
        ResolvedManifest resolved = await client.ResolveAsync(ImageReference.Parse($"{registry.Host}/app:v1"), Amd64, null, CancellationToken.None);

        var error = await Assert.ThrowsAsync<ImageServiceException>(() => client.OpenBlobAsync(resolved, config, CancellationToken.None));

        Assert.Equal(ImageErrorKind.Unavailable, error.Kind);
        Assert.Contains($"TLS connection to {ElsewhereName(storage)}, where registry {registry.Host} redirected", error.Message);
        Assert.Empty(storage.Requests);
        Assert.Equal(0, log.Count(FallingBackToHttp));
    }

    [Fact]
    public async Task AnInsecureRegistryFallsBackToHttpOnlyWhenItsOwnTlsHandshakeFails()
    {
        var log = new RecordingLogger<RegistryClient>();

        // Nothing listens: a refused connection says nothing about TLS.
        var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        string closed = $"127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";
        listener.Stop();
        using (RegistryClient client = NewClient(Insecure(closed), log))
        {
            await Assert.ThrowsAsync<ImageServiceException>(() =>
                client.ResolveAsync(ImageReference.Parse($"{closed}/app:v1"), Amd64, null, CancellationToken.None));
        }
        Assert.Equal(0, log.Count(FallingBackToHttp));

        // A TLS registry answering 404, and one whose redirect target does not speak TLS.
        using X509Certificate2 certificate = SelfSigned();
        await using FakeRegistry registry = await FakeRegistry.StartAsync(certificate);
        await using FakeRegistry plainStorage = await FakeRegistry.StartAsync();
        TinyImage.Push(registry, out Descriptor config);
        plainStorage.AddBlob("{}"u8.ToArray());
        registry.RedirectBlobsTo = $"https://{plainStorage.Host}";
        using RegistryClient tls = NewClient(Insecure(registry.Host), log);
        var missing = await Assert.ThrowsAsync<ImageServiceException>(() =>
            tls.ResolveAsync(ImageReference.Parse($"{registry.Host}/absent:v1"), Amd64, null, CancellationToken.None));
        Assert.Equal(ImageErrorKind.NotFound, missing.Kind);
        ResolvedManifest resolved = await tls.ResolveAsync(ImageReference.Parse($"{registry.Host}/app:v1"), Amd64, null, CancellationToken.None);
        await Assert.ThrowsAsync<ImageServiceException>(() => tls.OpenBlobAsync(resolved, config, CancellationToken.None));
        Assert.Equal(0, log.Count(FallingBackToHttp));
    }

    [Fact]
    public async Task TheHttpFallbackIsRememberedForABoundedTimeThenTlsIsTriedAgain()
    {
        await using FakeRegistry registry = await FakeRegistry.StartAsync();
        string digest = TinyImage.Push(registry);
        ImageReference reference = ImageReference.Parse($"{registry.Host}/app:v1");
        var log = new RecordingLogger<RegistryClient>();
        var time = new ShiftableTime();
        using RegistryClient client = NewClient(Insecure(registry.Host), log, time);

        Assert.Equal(digest, (await client.ResolveAsync(reference, Amd64, null, CancellationToken.None)).ManifestDigest);
        Assert.Equal(1, log.Count(FallingBackToHttp));

        time.Offset = PlainHttpFallbacks.Window - TimeSpan.FromSeconds(5);
        Assert.Equal(digest, (await client.ResolveAsync(reference, Amd64, null, CancellationToken.None)).ManifestDigest);
        Assert.Equal(1, log.Count(FallingBackToHttp));

        time.Offset = PlainHttpFallbacks.Window + TimeSpan.FromSeconds(5);
        Assert.Equal(digest, (await client.ResolveAsync(reference, Amd64, null, CancellationToken.None)).ManifestDigest);
        Assert.Equal(2, log.Count(FallingBackToHttp));
    }
}
