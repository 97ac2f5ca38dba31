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

    private static RegistryClient NewClient(string registriesConf) => new(
        RegistryConfiguration.FromTexts([(registriesConf, "test.conf")]),
        NullLogger<RegistryClient>.Instance,
        new RegistryClientOptions { RetryBaseDelay = TimeSpan.FromMilliseconds(1), PlainHttpForLoopback = false },
        TimeProvider.System);

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

    private static string Push(FakeRegistry registry)
    {
        byte[] config = "{}"u8.ToArray();
        string configDigest = registry.AddBlob(config);
        byte[] manifest = System.Text.Encoding.UTF8.GetBytes($$"""
            {"schemaVersion":2,"mediaType":"{{MediaTypes.OciManifest}}","config":{"mediaType":"{{MediaTypes.OciConfig}}","digest":"{{configDigest}}","size":2},"layers":[]}
            """);
        return registry.AddManifest("app", manifest, MediaTypes.OciManifest, "v1");
    }

    [Fact]
    public async Task UntrustedCertificateIsRefusedUnlessTheRegistryIsInsecure()
    {
        using X509Certificate2 certificate = SelfSigned();
        await using FakeRegistry registry = await FakeRegistry.StartAsync(certificate);
        string digest = Push(registry);
        ImageReference reference = ImageReference.Parse($"{registry.Host}/app:v1");

        using (RegistryClient verifying = NewClient(""))
        {
            var error = await Assert.ThrowsAsync<ImageServiceException>(() => verifying.ResolveAsync(reference, Amd64, null, CancellationToken.None));
            Assert.Equal(ImageErrorKind.Unavailable, error.Kind);
            Assert.Contains($"TLS connection to registry {registry.Host} failed", error.Message);
            // The handshake failed, so no HTTP request ever reached the registry.
            Assert.Empty(registry.Requests);
        }

        using RegistryClient insecure = NewClient($"[[registry]]\nlocation = \"{registry.Host}\"\ninsecure = true\n");
        ResolvedManifest resolved = await insecure.ResolveAsync(reference, Amd64, null, CancellationToken.None);
        Assert.Equal(digest, resolved.ManifestDigest);
    }

    [Fact]
    public async Task InsecureRegistryWithoutTlsFallsBackToPlainHttp()
    {
        await using FakeRegistry registry = await FakeRegistry.StartAsync();
        string digest = Push(registry);
        ImageReference reference = ImageReference.Parse($"{registry.Host}/app:v1");

        using (RegistryClient verifying = NewClient(""))
        {
            var error = await Assert.ThrowsAsync<ImageServiceException>(() => verifying.ResolveAsync(reference, Amd64, null, CancellationToken.None));
            Assert.Equal(ImageErrorKind.Unavailable, error.Kind);
        }

        using RegistryClient insecure = NewClient($"[[registry]]\nlocation = \"{registry.Host}\"\ninsecure = true\n");
        Assert.Equal(digest, (await insecure.ResolveAsync(reference, Amd64, null, CancellationToken.None)).ManifestDigest);
        Assert.Equal(digest, (await insecure.ResolveAsync(reference, Amd64, null, CancellationToken.None)).ManifestDigest);
        // Every request that reached the server was plain HTTP (TLS attempts never parse as HTTP requests).
        Assert.Equal(2, registry.Requests.Count(r => r.Path == "/v2/app/manifests/v1"));
    }
}
