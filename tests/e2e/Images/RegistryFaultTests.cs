using System.Net;
using Crisp.Cri.V1;
using Crisp.E2E.Daemon;
using Crisp.E2E.Fixtures;
using Grpc.Core;
using Xunit;

namespace Crisp.E2E.Images;

/// <summary>
/// A flaky registry over the socket, through the fault-injecting proxy: server errors are retried,
/// a download cut mid-body resumes with a Range request, and a download that stalls is cancelled
/// with DeadlineExceeded after the configured progress timeout.
/// </summary>
public sealed class RegistryFaultTests : IAsyncLifetime
{
    private const int ProgressTimeoutSeconds = 2;

    private RegistryWithImages _registry = null!;
    private RegistryProxy _proxy = null!;
    private CrispDaemon _daemon = null!;

    public async Task InitializeAsync()
    {
        _registry = await RegistryWithImages.GetSharedAsync();
        _proxy = await RegistryProxy.StartAsync(_registry.Registry);
        _daemon = await CrispDaemon.StartAsync(new DaemonOptions
        {
            Flags = ["--image-pull-progress-timeout-seconds", ProgressTimeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)],
        });
    }

    public async Task DisposeAsync()
    {
        await _daemon.DisposeAsync();
        await _proxy.DisposeAsync();
    }

    private Task<PullImageResponse> PullAsync(string reference) =>
        _daemon.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = reference } }).ResponseAsync;

    [Fact]
    public async Task Server_errors_on_the_manifest_are_retried_until_it_is_served()
    {
        _proxy.FailNext(2, HttpStatusCode.ServiceUnavailable, r => r.IsManifest);

        PullImageResponse pulled = await PullAsync(_proxy.Reference("crisp-test/busybox"));

        Assert.Equal(_registry[TestImageNames.Busybox].Image.ImageId, pulled.ImageRef);
        var manifests = _proxy.Requests.Where(r => r.Path.Contains("/manifests/", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, manifests.Count(r => r.Status == 503));
        Assert.Equal(200, manifests[^1].Status);
    }

    [Fact]
    public async Task A_layer_download_cut_mid_body_resumes_with_a_Range_request()
    {
        BuiltImage busybox = _registry[TestImageNames.Busybox].Image;
        string layer = busybox.Layers[0].Digest;
        Assert.True(busybox.Layers[0].Size > 200_000, "the base layer is big enough to cut");
        _proxy.CutNextBlobDownloads(1, afterBytes: 100_000, layer);

        PullImageResponse pulled = await PullAsync(_proxy.Reference("crisp-test/busybox"));

        Assert.Equal(busybox.ImageId, pulled.ImageRef);
        var downloads = _proxy.Requests.Where(r => r.IsBlobDownload(layer)).ToList();
        Assert.True(downloads.Count >= 2, $"{downloads.Count} downloads of {layer}");
        Assert.Null(downloads[0].Range);
        Assert.Contains(downloads.Skip(1), r => r.Range is { } range && range.StartsWith("bytes=", StringComparison.Ordinal) && !range.StartsWith("bytes=0-", StringComparison.Ordinal) && r.Status == 206);
        Assert.Equal(busybox.Layers.Count, (await ImageLayout.LayerDirsAsync(_daemon.Images, _proxy.Reference("crisp-test/busybox"))).Count);
    }

    [Fact]
    public async Task A_download_that_stalls_is_DeadlineExceeded_after_the_progress_timeout_and_a_retry_reuses_what_finished()
    {
        PushedImage pushed = _registry[TestImageNames.Busybox];
        BuiltImage busybox = pushed.Image;
        string layer = busybox.Layers[0].Digest;
        _proxy.StallNextBlobDownloads(100, afterBytes: 4096, layer);
        var timer = System.Diagnostics.Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<RpcException>(() => PullAsync(_proxy.Reference("crisp-test/busybox")));

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.Contains(layer, error.Status.Detail);
        Assert.InRange(timer.Elapsed.TotalSeconds, ProgressTimeoutSeconds * 0.9, ProgressTimeoutSeconds + 20);
        string imagesRoot = Path.Combine(_daemon.RootDirectory, "images");
        Assert.Empty((await _daemon.Images.ListImagesAsync(new ListImagesRequest())).Images);
        Assert.Empty(ImageLayout.Snapshots(imagesRoot));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (ImageLayout.Leftovers(imagesRoot).Count > 0 && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Empty(ImageLayout.Leftovers(imagesRoot));

        _proxy.ClearFaults();
        PullImageResponse retried = await PullAsync(_proxy.Reference("crisp-test/busybox"));

        Assert.Equal(busybox.ImageId, retried.ImageRef);
        Assert.Single(_proxy.Requests, r => r.IsBlobDownload(busybox.ConfigDigest)); // the config finished the first time
    }

    [Fact]
    public async Task Concurrent_pulls_of_images_sharing_a_layer_download_it_once()
    {
        BuiltImage busybox = _registry[TestImageNames.Busybox].Image;
        BuiltImage multilayer = _registry[TestImageNames.Multilayer].Image;
        string shared = busybox.Layers[0].Digest;
        Assert.Equal(shared, multilayer.Layers[0].Digest);
        _proxy.Delay = TimeSpan.FromMilliseconds(200); // keeps the pulls overlapping

        PullImageResponse[] pulled = await Task.WhenAll(
            PullAsync(_proxy.Reference("crisp-test/busybox")),
            PullAsync(_proxy.Reference("crisp-test/busybox")),
            PullAsync(_proxy.Reference("crisp-test/multilayer")));

        Assert.Equal([busybox.ImageId, busybox.ImageId, multilayer.ImageId], pulled.Select(p => p.ImageRef));
        Assert.Single(_proxy.Requests, r => r.IsBlobDownload(shared));
    }

    [Fact]
    public async Task A_truncated_layer_blob_fails_the_pull_clearly_and_stores_nothing()
    {
        await using var registry = await RegistryFixture.StartAsync();
        BuiltImage busybox = await TestImages.Busybox;
        string reference = await ImagePusher.PushAsync(busybox, registry, "crisp-test/truncated");
        string layer = busybox.Layers[0].Digest;
        string blob = registry.BlobPath(layer);
        await using (var file = new FileStream(blob, FileMode.Open, FileAccess.Write)) file.SetLength(file.Length / 2);

        var error = await Assert.ThrowsAsync<RpcException>(() => PullAsync(reference));

        Assert.Equal(StatusCode.DataLoss, error.StatusCode);
        Assert.Contains(layer, error.Status.Detail);
        await ImageLayout.AssertNothingStoredAsync(_daemon);
    }
}
