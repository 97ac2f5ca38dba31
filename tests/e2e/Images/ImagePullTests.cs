using System.Text.Json;
using Crisp.Cri.V1;
using Crisp.E2E.Fixtures;
using Grpc.Core;
using Xunit;
using Xunit.Abstractions;

namespace Crisp.E2E.Images;

/// <summary>PullImage, ImageStatus, ListImages, RemoveImage and ImageFsInfo over the socket against the registry fixture.</summary>
public sealed class ImagePullTests(ImageDaemonFixture fixture, ITestOutputHelper output) : IClassFixture<ImageDaemonFixture>
{
    private ImageService.ImageServiceClient Images => fixture.Daemon.Images;

    private RegistryWithImages Registry => fixture.Registry;

    private async Task<string> PullAsync(string reference, AuthConfig? auth = null)
    {
        var request = new PullImageRequest { Image = new ImageSpec { Image = reference } };
        if (auth is not null) request.Auth = auth;
        return (await Images.PullImageAsync(request)).ImageRef;
    }

    private async Task<Image?> StatusAsync(string reference) =>
        (await Images.ImageStatusAsync(new ImageStatusRequest { Image = new ImageSpec { Image = reference } })).Image;

    /// <summary>The image id crisp must report: the config digest of the manifest for this node's platform.</summary>
    private string ExpectedId(string name)
    {
        BuiltImage image = Registry[name].Image;
        return image.PlatformImages.Count == 0
            ? image.ImageId
            : image.PlatformImages.Single(p => p.Config.Platform == OciPlatform.Host).ImageId;
    }

    [Fact]
    public async Task PullImage_returns_the_image_id_and_status_shows_tags_digests_and_user()
    {
        PushedImage busybox = Registry[TestImageNames.Busybox];

        string imageRef = await PullAsync(busybox.Reference);

        Assert.Equal(busybox.Image.ImageId, imageRef);
        Image image = (await StatusAsync(busybox.Reference))!;
        Assert.Equal(imageRef, image.Id);
        Assert.Contains(busybox.Reference, image.RepoTags);
        Assert.Contains(busybox.RepoDigest, image.RepoDigests);
        Assert.True(image.Size > 0);
        Assert.False(image.Pinned);
        Assert.Empty(ImageLayout.Leftovers(fixture.ImagesRoot));
    }

    [Theory]
    [InlineData(TestImageNames.Busybox)]
    [InlineData(TestImageNames.Multilayer)]
    [InlineData(TestImageNames.Zstd)]
    [InlineData(TestImageNames.Uncompressed)]
    [InlineData(TestImageNames.Whiteouts)]
    [InlineData(TestImageNames.Multiplatform)]
    [InlineData(TestImageNames.DockerBusybox)]
    [InlineData(TestImageNames.DockerMultiplatform)]
    [InlineData(TestImageNames.EnvWorkdir)]
    public async Task Every_manifest_kind_and_compression_pulls_to_its_config_digest(string name)
    {
        string imageRef = await PullAsync(Registry.Reference(name));

        Assert.Equal(ExpectedId(name), imageRef);
        Assert.NotNull(await StatusAsync(imageRef));
    }

    [Fact]
    public async Task Layers_stack_in_order_in_an_overlay_mount()
    {
        await PullAsync(Registry.Reference(TestImageNames.Multilayer));
        var layers = await ImageLayout.LayerDirsAsync(Images, Registry.Reference(TestImageNames.Multilayer));
        Assert.Equal(TestImageFacts.Multilayer.LayerCount, layers.Count);

        await ImageLayout.WithOverlayAsync(layers, async merged =>
        {
            Assert.Equal(TestImageFacts.Multilayer.OverriddenContent, await File.ReadAllTextAsync(merged + TestImageFacts.Multilayer.OverriddenFile));
            Assert.Equal(TestImageFacts.Multilayer.LayerFourContent, await File.ReadAllTextAsync(merged + TestImageFacts.Multilayer.LayerFourFile));
            Assert.True(File.Exists(merged + "/bin/busybox"));
        });
    }

    [Fact]
    public async Task Whiteouts_and_opaque_directories_hide_lower_content_in_an_overlay_mount()
    {
        await PullAsync(Registry.Reference(TestImageNames.Whiteouts));
        var layers = await ImageLayout.LayerDirsAsync(Images, Registry.Reference(TestImageNames.Whiteouts));

        Assert.Equal("character special file 0:0",
            await ImageLayout.StatTypeAsync(layers[^1] + TestImageFacts.Whiteouts.DeletedFile));
        await ImageLayout.WithOverlayAsync(layers, async merged =>
        {
            Assert.Equal(TestImageFacts.Whiteouts.KeptContent, await File.ReadAllTextAsync(merged + TestImageFacts.Whiteouts.KeptFile));
            Assert.False(File.Exists(merged + TestImageFacts.Whiteouts.DeletedFile));
            Assert.False(Directory.Exists(merged + TestImageFacts.Whiteouts.DeletedDirectory));
            Assert.All(TestImageFacts.Whiteouts.HiddenByOpaque, hidden => Assert.False(File.Exists(merged + hidden), hidden));
            Assert.Equal(TestImageFacts.Whiteouts.AddedAfterOpaqueContent, await File.ReadAllTextAsync(merged + TestImageFacts.Whiteouts.AddedAfterOpaque));
        });
    }

    [Fact]
    public async Task ImageStatus_finds_by_tag_digest_id_and_id_prefix_and_answers_absent_with_no_image()
    {
        PushedImage busybox = Registry[TestImageNames.Busybox];
        string id = await PullAsync(busybox.Reference);
        string hex = id["sha256:".Length..];

        foreach (string query in new[] { busybox.Reference, busybox.DigestReference, id, hex, hex[..12] })
        {
            Assert.Equal(id, (await StatusAsync(query))?.Id);
        }
        Assert.Null(await StatusAsync($"{Registry.Host}/crisp-test/never-pulled:latest"));
        Assert.Null(await StatusAsync("sha256:" + new string('0', 64)));
    }

    [Fact]
    public async Task ImageStatus_verbose_carries_the_image_config()
    {
        PushedImage image = Registry[TestImageNames.EntrypointCmd];
        await PullAsync(image.Reference);

        var status = await Images.ImageStatusAsync(new ImageStatusRequest { Image = new ImageSpec { Image = image.Reference }, Verbose = true });

        using var info = JsonDocument.Parse(status.Info["info"]);
        JsonElement config = info.RootElement.GetProperty("imageSpec").GetProperty("config");
        Assert.Equal(["/bin/echo", "entry"], config.GetProperty("Entrypoint").EnumerateArray().Select(e => e.GetString()));
    }

    [Theory]
    [InlineData(TestImageNames.UserUid, 1000L, "")]
    [InlineData(TestImageNames.UserUidGid, 1000L, "")]
    [InlineData(TestImageNames.UserName, null, "app")]
    public async Task Image_user_is_reported_as_uid_or_name(string name, long? uid, string username)
    {
        await PullAsync(Registry.Reference(name));

        Image image = (await StatusAsync(Registry.Reference(name)))!;

        Assert.Equal(uid, image.Uid?.Value);
        Assert.Equal(username, image.Username);
    }

    [Fact]
    public async Task ListImages_lists_pulled_images_and_filters_by_reference()
    {
        string busybox = await PullAsync(Registry.Reference(TestImageNames.Busybox));
        string zstd = await PullAsync(Registry.Reference(TestImageNames.Zstd));

        var all = await Images.ListImagesAsync(new ListImagesRequest());
        var filtered = await Images.ListImagesAsync(new ListImagesRequest { Filter = new ImageFilter { Image = new ImageSpec { Image = Registry.Reference(TestImageNames.Zstd) } } });

        Assert.Contains(all.Images, i => i.Id == busybox);
        Assert.Contains(all.Images, i => i.Id == zstd);
        Assert.Equal(zstd, Assert.Single(filtered.Images).Id);
    }

    [Fact]
    public async Task RemoveImage_by_digest_removes_the_image_with_its_tags_and_is_idempotent()
    {
        PushedImage image = Registry[TestImageNames.EnvWorkdir]; // its top layer is its own
        string id = await PullAsync(image.Reference);
        var layers = await ImageLayout.LayerDirsAsync(Images, image.Reference);

        await Images.RemoveImageAsync(new RemoveImageRequest { Image = new ImageSpec { Image = image.DigestReference } });

        Assert.Null(await StatusAsync(image.Reference));
        Assert.Null(await StatusAsync(id));
        Assert.DoesNotContain((await Images.ListImagesAsync(new ListImagesRequest())).Images, i => i.Id == id);
        Assert.False(Directory.Exists(layers[^1]), "the image's own top layer is garbage-collected");
        await Images.RemoveImageAsync(new RemoveImageRequest { Image = new ImageSpec { Image = image.Reference } });
        await Images.RemoveImageAsync(new RemoveImageRequest { Image = new ImageSpec { Image = id } });

        Assert.Equal(id, await PullAsync(image.Reference)); // and it comes back
    }

    [Fact]
    public async Task ImageFsInfo_reports_snapshot_usage_on_the_mount_holding_the_root()
    {
        await PullAsync(Registry.Reference(TestImageNames.Busybox));

        var info = await Images.ImageFsInfoAsync(new ImageFsInfoRequest());

        var usage = Assert.Single(info.ImageFilesystems);
        Assert.True(usage.UsedBytes.Value > 500_000, $"used bytes {usage.UsedBytes.Value}");
        // busybox applets are hard links of one file: counted once, like du does.
        Assert.True(usage.InodesUsed.Value > 10, $"inodes {usage.InodesUsed.Value}");
        Assert.True(fixture.Daemon.RootDirectory.StartsWith(usage.FsId.Mountpoint, StringComparison.Ordinal), usage.FsId.Mountpoint);
        Assert.True(usage.Timestamp > 0);
    }

    [Fact]
    public async Task PullImage_keeps_user_specified_image_and_status_and_list_return_it()
    {
        PushedImage image = Registry[TestImageNames.LabelsStopSignal];
        const string asWritten = "crisp-test/labels-stopsignal"; // as a pod spec would name it, before normalisation
        var request = new PullImageRequest { Image = new ImageSpec { Image = image.Reference, UserSpecifiedImage = asWritten } };

        string id = (await Images.PullImageAsync(request)).ImageRef;

        Image status = (await StatusAsync(image.Reference))!;
        Assert.Equal(asWritten, status.Spec.UserSpecifiedImage);
        Assert.Equal(id, status.Spec.Image);
        var listed = await Images.ListImagesAsync(new ListImagesRequest { Filter = new ImageFilter { Image = new ImageSpec { Image = id } } });
        Assert.Equal(asWritten, Assert.Single(listed.Images).Spec.UserSpecifiedImage);
    }

    [Fact]
    public async Task ImageFsInfo_reports_container_writable_layers_separately_under_the_containers_directory()
    {
        string containers = Path.Combine(fixture.Daemon.RootDirectory, "containers");
        string upper = Path.Combine(containers, "crisp-e2e-usage", "upper");
        Directory.CreateDirectory(upper);
        try
        {
            await File.WriteAllBytesAsync(Path.Combine(upper, "written"), new byte[256 * 1024]);

            // The figure is cached for a few seconds, and another test may just have asked.
            ImageFsInfoResponse info = await Images.ImageFsInfoAsync(new ImageFsInfoRequest());
            for (var deadline = DateTime.UtcNow.AddSeconds(15);
                 info.ContainerFilesystems.Count == 1 && info.ContainerFilesystems[0].UsedBytes.Value < 256 * 1024 && DateTime.UtcNow < deadline;)
            {
                await Task.Delay(250);
                info = await Images.ImageFsInfoAsync(new ImageFsInfoRequest());
            }

            var usage = Assert.Single(info.ContainerFilesystems);
            Assert.True(containers.StartsWith(usage.FsId.Mountpoint, StringComparison.Ordinal), usage.FsId.Mountpoint);
            Assert.Equal(Assert.Single(info.ImageFilesystems).FsId.Mountpoint, usage.FsId.Mountpoint);
            Assert.True(usage.UsedBytes.Value >= 256 * 1024, $"used bytes {usage.UsedBytes.Value}");
            Assert.True(usage.InodesUsed.Value >= 1, $"inodes {usage.InodesUsed.Value}");
            Assert.True(usage.Timestamp > 0);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(upper)!, recursive: true);
        }
    }

    [Fact]
    public async Task A_warm_pull_answers_in_milliseconds()
    {
        string reference = Registry.Reference(TestImageNames.Busybox);
        await PullAsync(reference);

        double median = await ImageLayout.MedianMillisecondsAsync(21, () => PullAsync(reference));

        output.WriteLine($"warm PullImage median: {median:0.00} ms");
        Assert.True(median < 50, $"warm pull median {median:0.00} ms");
    }

    [Fact]
    public async Task An_invalid_reference_is_InvalidArgument()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => PullAsync("Not A Valid//Reference"));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("Not A Valid//Reference", error.Status.Detail);
    }

    [Theory]
    [InlineData(TestImageNames.HostileDotDot)]
    [InlineData(TestImageNames.HostileAbsolute)]
    [InlineData(TestImageNames.HostileSymlinkEscape)]
    [InlineData(TestImageNames.HostileHardlinkEscape)]
    public async Task Hostile_layers_fail_the_pull_and_write_nothing_outside_the_root(string name)
    {
        PushedImage pushed = await Registry.EnsurePushedAsync(name);
        HostileImage hostile = await TestImages.GetHostileAsync(name);

        var error = await Assert.ThrowsAsync<RpcException>(() => PullAsync(pushed.Reference));

        Assert.Equal(StatusCode.DataLoss, error.StatusCode);
        Assert.Contains("refused entry", error.Status.Detail);
        Assert.All(hostile.EscapedHostPaths, path => Assert.False(Path.Exists(path), $"{path} exists: {hostile.Attack} escaped"));
        Assert.Null(await StatusAsync(pushed.Reference));
        Assert.Empty(ImageLayout.Leftovers(fixture.ImagesRoot));
    }
}
