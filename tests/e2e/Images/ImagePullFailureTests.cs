using Crisp.Cri.V1;
using Crisp.E2E.Daemon;
using Crisp.E2E.Fixtures;
using Grpc.Core;
using Xunit;

namespace Crisp.E2E.Images;

/// <summary>Pulls that go wrong (bad bytes, wrong credentials, a crash or a cancelled call): clear errors, nothing left behind.</summary>
public sealed class ImagePullFailureTests
{
    private static PullImageRequest Pull(string reference, AuthConfig? auth = null)
    {
        var request = new PullImageRequest { Image = new ImageSpec { Image = reference } };
        if (auth is not null) request.Auth = auth;
        return request;
    }

    private static async Task<IReadOnlyList<Image>> ListAsync(CrispDaemon daemon) =>
        (await daemon.Images.ListImagesAsync(new ListImagesRequest())).Images;

    private static string ImagesRoot(CrispDaemon daemon) => Path.Combine(daemon.RootDirectory, "images");

    private static async Task WaitForNoLeftoversAsync(CrispDaemon daemon)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (ImageLayout.Leftovers(ImagesRoot(daemon)).Count > 0 && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Empty(ImageLayout.Leftovers(ImagesRoot(daemon)));
    }

    [Fact]
    public async Task A_layer_whose_bytes_do_not_match_its_digest_fails_with_DataLoss_and_keeps_nothing()
    {
        await using var registry = await RegistryFixture.StartAsync();
        BuiltImage image = await TestImages.GetAsync(TestImageNames.Multilayer);
        string reference = await ImagePusher.PushAsync(image, registry, "crisp-test/corrupt");
        string corrupted = image.Layers[^1].Digest;
        await registry.CorruptBlobAsync(corrupted);
        await using var daemon = await CrispDaemon.StartAsync();

        var error = await Assert.ThrowsAsync<RpcException>(() => daemon.Images.PullImageAsync(Pull(reference)).ResponseAsync);

        Assert.Equal(StatusCode.DataLoss, error.StatusCode);
        Assert.Contains(corrupted, error.Status.Detail);
        // Bad content cannot get better on a retry: the manifest, config and sibling layers go too.
        await ImageLayout.AssertNothingStoredAsync(daemon);
    }

    [Fact]
    public async Task Basic_auth_credentials_from_AuthConfig_are_used_and_a_wrong_password_is_refused()
    {
        await using var registry = await RegistryFixture.StartAsync(RegistryFixtureOptions.WithBasicAuth("puller", "s3cret-pass"));
        BuiltImage image = await TestImages.Busybox;
        string reference = await ImagePusher.PushAsync(image, registry, "crisp-test/private");
        await using var daemon = await CrispDaemon.StartAsync();

        var anonymous = await Assert.ThrowsAsync<RpcException>(() => daemon.Images.PullImageAsync(Pull(reference)).ResponseAsync);
        var wrong = await Assert.ThrowsAsync<RpcException>(() =>
            daemon.Images.PullImageAsync(Pull(reference, new AuthConfig { Username = "puller", Password = "wrong" })).ResponseAsync);
        var pulled = await daemon.Images.PullImageAsync(Pull(reference, new AuthConfig { Username = "puller", Password = "s3cret-pass" }));
        var viaAuthField = await daemon.Images.PullImageAsync(Pull(reference,
            new AuthConfig { Auth = Convert.ToBase64String("puller:s3cret-pass"u8.ToArray()) }));

        Assert.Contains(anonymous.StatusCode, new[] { StatusCode.Unauthenticated, StatusCode.PermissionDenied });
        Assert.Contains(wrong.StatusCode, new[] { StatusCode.Unauthenticated, StatusCode.PermissionDenied });
        Assert.Contains(registry.Host, wrong.Status.Detail);
        Assert.Equal(image.ImageId, pulled.ImageRef);
        Assert.Equal(image.ImageId, viaAuthField.ImageRef);
        Assert.DoesNotContain("s3cret-pass", daemon.Output);
    }

    [Fact]
    public async Task A_pull_killed_mid_download_leaves_no_half_image_and_the_next_pull_completes()
    {
        await using var registry = await RegistryFixture.StartAsync();
        BuiltImage image = await TestImages.Large;
        string reference = await ImagePusher.PushAsync(image, registry, "crisp-test/large");
        await using var daemon = await CrispDaemon.StartAsync();

        Task<PullImageResponse> pull = daemon.Images.PullImageAsync(Pull(reference)).ResponseAsync;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        string ingest = Path.Combine(ImagesRoot(daemon), "snapshots", ".ingest");
        while (!(Directory.Exists(ingest) && Directory.EnumerateFileSystemEntries(ingest).Any()) && !pull.IsCompleted && DateTime.UtcNow < deadline)
        {
            await Task.Delay(5);
        }
        Assert.False(pull.IsCompleted, "the pull finished before it could be interrupted");
        await daemon.KillAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => pull);

        await daemon.RestartAsync();

        Assert.DoesNotContain(await ListAsync(daemon), i => i.Id == image.ImageId);
        Assert.Null((await daemon.Images.ImageStatusAsync(new ImageStatusRequest { Image = new ImageSpec { Image = reference } })).Image);
        Assert.Empty(ImageLayout.Leftovers(ImagesRoot(daemon)));
        var again = await daemon.Images.PullImageAsync(Pull(reference));
        Assert.Equal(image.ImageId, again.ImageRef);
        Assert.Equal(image.Layers.Count, (await ImageLayout.LayerDirsAsync(daemon.Images, reference)).Count);
    }

    [Fact]
    public async Task A_cancelled_call_cancels_the_download_and_cleans_up()
    {
        await using var registry = await RegistryFixture.StartAsync();
        BuiltImage image = await TestImages.Large;
        string reference = await ImagePusher.PushAsync(image, registry, "crisp-test/large");
        await using var daemon = await CrispDaemon.StartAsync();

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            daemon.Images.PullImageAsync(Pull(reference), deadline: DateTime.UtcNow.AddMilliseconds(150)).ResponseAsync);

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        await WaitForNoLeftoversAsync(daemon);
        Assert.DoesNotContain(await ListAsync(daemon), i => i.Id == image.ImageId);
    }
}
