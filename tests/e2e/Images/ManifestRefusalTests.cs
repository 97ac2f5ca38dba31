using System.Text;
using System.Text.Json;
using Crisp.Cri.V1;
using Crisp.E2E.Daemon;
using Crisp.E2E.Fixtures;
using Grpc.Core;
using Xunit;

namespace Crisp.E2E.Images;

/// <summary>
/// Manifests crisp must refuse over the socket: one over 4 MiB (announced by Content-Length, or only
/// noticed while streaming; served by a front of the registry, since no registry stores such a
/// thing) and an index with no entry for this node's platform. Each fails clearly and stores nothing.
/// </summary>
public sealed class ManifestRefusalTests : IAsyncLifetime
{
    private const int FourMiB = 4 * 1024 * 1024;
    private const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    private const string OciIndex = "application/vnd.oci.image.index.v1+json";

    private RegistryWithImages _registry = null!;
    private CrispDaemon _daemon = null!;

    public async Task InitializeAsync()
    {
        _registry = await RegistryWithImages.GetSharedAsync();
        _daemon = await CrispDaemon.StartAsync();
    }

    public async Task DisposeAsync() => await _daemon.DisposeAsync();

    private Task<PullImageResponse> PullAsync(string reference) =>
        _daemon.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = reference } }).ResponseAsync;

    /// <summary>The busybox manifest, valid in every way except a padding annotation that takes it past 4 MiB.</summary>
    private byte[] OversizedManifest()
    {
        BuiltImage busybox = _registry[TestImageNames.Busybox].Image;
        var manifest = new Dictionary<string, object>
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = OciManifest,
            ["config"] = new { mediaType = "application/vnd.oci.image.config.v1+json", digest = busybox.ConfigDigest, size = busybox.ConfigSize },
            ["layers"] = busybox.Layers.Select(l => new { mediaType = l.MediaType, digest = l.Digest, size = l.Size }).ToArray(),
            ["annotations"] = new Dictionary<string, string> { ["io.crisp.test.padding"] = new string('x', FourMiB) },
        };
        byte[] bytes = JsonSerializer.SerializeToUtf8Bytes(manifest);
        Assert.True(bytes.Length > FourMiB);
        return bytes;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_manifest_over_4_MiB_is_refused_whether_or_not_its_length_is_announced(bool declareLength)
    {
        await using var front = TokenAuthRegistryFront.Start(_registry.Registry);
        front.ServeManifest("crisp-test/huge", "latest", OversizedManifest(), OciManifest, declareLength);
        string reference = front.Reference("crisp-test/huge");

        var error = await Assert.ThrowsAsync<RpcException>(() => PullAsync(reference));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("4 MiB", error.Status.Detail);
        Assert.Contains(front.Host, error.Status.Detail);
        Assert.Contains("crisp-test/huge", error.Status.Detail);
        Assert.DoesNotContain(front.RegistryRequests, r => r.Path.Contains("/blobs/", StringComparison.Ordinal));
        await ImageLayout.AssertNothingStoredAsync(_daemon);
    }

    [Fact]
    public async Task An_index_entry_announcing_a_manifest_over_4_MiB_is_refused_before_it_is_fetched()
    {
        await using var front = TokenAuthRegistryFront.Start(_registry.Registry);
        string hugeDigest = "sha256:" + new string('a', 64);
        byte[] index = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = OciIndex,
            ["manifests"] = new[]
            {
                new { mediaType = OciManifest, digest = hugeDigest, size = 5L * 1024 * 1024, platform = new { os = OciPlatform.Host.Os, architecture = OciPlatform.Host.Architecture } },
            },
        });
        front.ServeManifest("crisp-test/huge-entry", "latest", index, OciIndex, declareLength: true);

        var error = await Assert.ThrowsAsync<RpcException>(() => PullAsync(front.Reference("crisp-test/huge-entry")));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("4 MiB", error.Status.Detail);
        Assert.Contains(hugeDigest, error.Status.Detail);
        Assert.DoesNotContain(front.RegistryRequests, r => r.Path.EndsWith(hugeDigest, StringComparison.Ordinal));
        await ImageLayout.AssertNothingStoredAsync(_daemon);
    }

    [Fact]
    public async Task An_index_without_this_platform_is_NotFound_naming_the_platform()
    {
        string layout = Directory.CreateTempSubdirectory("crisp-e2e-foreign-only-").FullName;
        try
        {
            BuiltImage foreignOnly = await new OciIndexBuilder()
                .AddImage(new OciImageBuilder(new ImageConfigSpec { Platform = OciPlatform.Foreign, Cmd = ["/foreign"] })
                    .AddLayer(new LayerBuilder().AddFile("foreign.txt", "only for " + OciPlatform.Foreign)))
                .WriteLayoutAsync(layout);
            string reference = await ImagePusher.PushAsync(foreignOnly, _registry.Registry, "crisp-test/foreign-only");

            var error = await Assert.ThrowsAsync<RpcException>(() => PullAsync(reference));

            Assert.Equal(StatusCode.NotFound, error.StatusCode);
            Assert.Contains(OciPlatform.Host.ToString(), error.Status.Detail); // what this node needs
            Assert.Contains(OciPlatform.Foreign.ToString(), error.Status.Detail); // what the index offers
            Assert.Contains("crisp-test/foreign-only", error.Status.Detail);
            await ImageLayout.AssertNothingStoredAsync(_daemon);
        }
        finally
        {
            Directory.Delete(layout, recursive: true);
        }
    }
}
