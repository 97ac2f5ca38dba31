using Crisp.Cri.V1;
using Crisp.E2E.Daemon;
using Crisp.E2E.Fixtures;
using Grpc.Core;
using Xunit;

namespace Crisp.E2E.Images;

/// <summary>
/// containers-registries.conf over the socket: a prefix whose location rewrites the registry host,
/// a mirror that is down with fallback to the location, and a blocked registry. The names
/// (registry.k8s.io, gcr.io, *.crisp.test) never reach DNS: the location or the block decides first.
/// </summary>
public sealed class RegistriesConfTests : IAsyncLifetime
{
    private const string MirroredRegistry = "mirrored.crisp.test";
    private const string BlockedRegistry = "blocked.crisp.test";

    private RegistryWithImages _registry = null!;
    private int _deadMirrorPort;
    private CrispDaemon _daemon = null!;

    public async Task InitializeAsync()
    {
        _registry = await RegistryWithImages.GetSharedAsync();
        _deadMirrorPort = FreeTcpPort.Pick(); // nothing listens there: connections are refused
        _daemon = await CrispDaemon.StartAsync(new DaemonOptions
        {
            RegistriesConf = $"""
                [[registry]]
                prefix = "registry.k8s.io"
                location = "{_registry.Host}"
                insecure = true

                [[registry]]
                prefix = "gcr.io"
                location = "{_registry.Host}"
                insecure = true

                [[registry]]
                prefix = "{MirroredRegistry}"
                location = "{_registry.Host}"
                insecure = true

                [[registry.mirror]]
                location = "127.0.0.1:{_deadMirrorPort}"
                insecure = true

                [[registry]]
                prefix = "{BlockedRegistry}"
                location = "{_registry.Host}"
                blocked = true
                """,
        });
    }

    public async Task DisposeAsync() => await _daemon.DisposeAsync();

    private Task<PullImageResponse> PullAsync(string reference) =>
        _daemon.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = reference } }).ResponseAsync;

    private async Task<Image?> StatusAsync(string reference) =>
        (await _daemon.Images.ImageStatusAsync(new ImageStatusRequest { Image = new ImageSpec { Image = reference } })).Image;

    /// <summary>The busybox image under a repository no other test uses, so the access log shows exactly this test's requests.</summary>
    private async Task<string> PushPrivateCopyAsync()
    {
        string repository = $"crisp-test/mapped-{Guid.NewGuid():N}";
        await ImagePusher.PushAsync(await TestImages.Busybox, _registry.Registry, repository);
        return repository;
    }

    private Task<bool> RegistrySawManifestRequestAsync(string repository) =>
        _registry.Registry.WaitForRequestAsync(
            r => r.Method == "GET" && r.Path == $"/v2/{repository}/manifests/latest" && r.Status == 200 && r.UserAgent.StartsWith("crisp", StringComparison.Ordinal),
            TimeSpan.FromSeconds(5));

    [Theory]
    [InlineData("registry.k8s.io")]
    [InlineData("gcr.io")]
    public async Task A_prefix_with_a_location_pulls_from_the_local_registry_under_the_original_name(string registry)
    {
        string repository = await PushPrivateCopyAsync();
        string reference = $"{registry}/{repository}:latest";
        BuiltImage busybox = await TestImages.Busybox;

        PullImageResponse pulled = await PullAsync(reference);

        Assert.Equal(busybox.ImageId, pulled.ImageRef);
        Assert.True(await RegistrySawManifestRequestAsync(repository), $"the registry at {_registry.Host} never served /v2/{repository}/manifests/latest");
        Image image = (await StatusAsync(reference))!;
        Assert.Contains(reference, image.RepoTags);
        Assert.Contains($"{registry}/{repository}@{busybox.ManifestDigest}", image.RepoDigests);
        Assert.DoesNotContain(image.RepoTags, tag => tag.StartsWith(_registry.Host, StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_shared_busybox_pulls_as_registry_k8s_io()
    {
        const string reference = "registry.k8s.io/crisp-test/busybox:latest";

        PullImageResponse pulled = await PullAsync(reference);

        Assert.Equal(_registry[TestImageNames.Busybox].Image.ImageId, pulled.ImageRef);
        Assert.Contains(reference, (await StatusAsync(reference))!.RepoTags);
    }

    [Fact]
    public async Task A_mirror_that_is_down_falls_back_to_the_location()
    {
        string repository = await PushPrivateCopyAsync();
        string reference = $"{MirroredRegistry}/{repository}:latest";

        PullImageResponse pulled = await PullAsync(reference);

        Assert.Equal((await TestImages.Busybox).ImageId, pulled.ImageRef);
        Assert.True(await RegistrySawManifestRequestAsync(repository), "the location was not asked after the mirror failed");
        Assert.Contains($"127.0.0.1:{_deadMirrorPort}", _daemon.Output); // the mirror was tried first, and its failure logged
        Assert.Contains(reference, (await StatusAsync(reference))!.RepoTags);
    }

    [Fact]
    public async Task A_blocked_registry_is_PermissionDenied_naming_it_and_stores_nothing()
    {
        string reference = $"{BlockedRegistry}/crisp-test/busybox:latest";

        var error = await Assert.ThrowsAsync<RpcException>(() => PullAsync(reference));

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Contains(BlockedRegistry, error.Status.Detail);
        Assert.Contains("blocked", error.Status.Detail);
        await ImageLayout.AssertNothingStoredAsync(_daemon);
    }
}
