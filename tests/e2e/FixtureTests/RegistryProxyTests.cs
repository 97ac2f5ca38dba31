using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Crisp.E2E.Fixtures;
using Xunit;

namespace Crisp.E2E.FixtureTests;

public sealed class RegistryProxyTests
{
    [Fact]
    public async Task Proxy_forwards_pushes_and_pulls_untouched_and_records_them()
    {
        await using var registry = await RegistryFixture.StartAsync();
        await using var proxy = await RegistryProxy.StartAsync(registry);
        var image = await TestImages.GetAsync(TestImageNames.Multilayer);
        await ImagePusher.PushAsync(image, proxy.Reference("crisp-test/proxied"), credentials: null);

        var raw = await ImagePusher.InspectRawAsync(proxy.Reference("crisp-test/proxied"));
        Assert.Equal(image.ManifestDigest, Sha256Digest.Of(Encoding.UTF8.GetBytes(raw)));
        await proxy.WaitForRequestAsync(r => r.Method == "PUT" && r.Path.EndsWith("/manifests/latest", StringComparison.Ordinal) && r.Status == 201, TimeSpan.FromSeconds(10));
        Assert.All(proxy.Requests, r => Assert.Equal(RegistryFault.None, r.Fault));
        Assert.Contains(registry.Requests, r => r.Method == "PUT" && r.Path.Contains("/manifests/latest", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Proxy_fronts_a_tls_registry_with_plain_http()
    {
        await using var registry = await RegistryFixture.StartAsync(new RegistryFixtureOptions { Tls = true });
        var image = await TestImages.Busybox;
        await ImagePusher.PushAsync(image, registry, "crisp-test/behind-proxy");
        await using var proxy = await RegistryProxy.StartAsync(registry);

        var raw = await ImagePusher.InspectRawAsync(proxy.Reference("crisp-test/behind-proxy"));
        Assert.Equal(image.ManifestDigest, Sha256Digest.Of(Encoding.UTF8.GetBytes(raw)));
        await proxy.WaitForRequestAsync(r => r.Path == "/v2/crisp-test/behind-proxy/manifests/latest" && r.Status == 200, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Armed_error_status_hits_only_the_next_matching_requests()
    {
        await using var registry = await RegistryFixture.StartAsync();
        var reference = await ImagePusher.PushAsync(await TestImages.Busybox, registry, "crisp-test/flaky");
        await using var proxy = await RegistryProxy.StartAsync(registry);
        var viaProxy = proxy.Reference("crisp-test/flaky");

        proxy.FailNext(1, HttpStatusCode.ServiceUnavailable, r => r.IsManifest);
        var failed = await ImagePusher.TryInspectRawAsync(viaProxy);
        Assert.False(failed.Succeeded, "the armed 503 was not served");
        Assert.Contains(proxy.Requests, r => r.Fault == RegistryFault.ErrorStatus && r.Status == 503);

        var recovered = await ImagePusher.TryInspectRawAsync(viaProxy);
        Assert.True(recovered.Succeeded, recovered.StandardError);
        Assert.NotEqual(reference, viaProxy);
    }

    [Fact]
    public async Task Cut_blob_download_resets_mid_body_and_a_range_request_resumes_it()
    {
        await using var registry = await RegistryFixture.StartAsync();
        var image = await TestImages.Busybox;
        await ImagePusher.PushAsync(image, registry, "crisp-test/cut");
        await using var proxy = await RegistryProxy.StartAsync(registry);
        var layer = image.Layers[0];
        var blobUri = new Uri($"http://{proxy.Host}/v2/crisp-test/cut/blobs/{layer.Digest}");
        const int cutAt = 100_000;
        proxy.CutNextBlobDownloads(1, cutAt, layer.Digest);

        using var http = new HttpClient();
        var partial = new MemoryStream();
        using (var response = await http.GetAsync(blobUri, HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(layer.Size, response.Content.Headers.ContentLength);
            await using var body = await response.Content.ReadAsStreamAsync();
            await Assert.ThrowsAnyAsync<IOException>(() => body.CopyToAsync(partial));
        }

        Assert.Equal(cutAt, partial.Length);
        using var resume = new HttpRequestMessage(HttpMethod.Get, blobUri);
        resume.Headers.Range = new RangeHeaderValue(partial.Length, null);
        using (var rest = await http.SendAsync(resume))
        {
            Assert.Equal(HttpStatusCode.PartialContent, rest.StatusCode);
            await (await rest.Content.ReadAsStreamAsync()).CopyToAsync(partial);
        }

        Assert.Equal(layer.Digest, Sha256Digest.Of(partial.ToArray()));
        Assert.Contains(proxy.Requests, r => r.Fault == RegistryFault.CutBody && r.BodyBytesSent == cutAt);
        Assert.Contains(proxy.Requests, r => r.Range == $"bytes={cutAt}-" && r.Status == 206);
    }

    [Fact]
    public async Task Stalled_blob_download_goes_silent_and_delay_slows_every_request()
    {
        await using var registry = await RegistryFixture.StartAsync();
        var image = await TestImages.Busybox;
        await ImagePusher.PushAsync(image, registry, "crisp-test/stall");
        await using var proxy = await RegistryProxy.StartAsync(registry);
        var blobUri = new Uri($"http://{proxy.Host}/v2/crisp-test/stall/blobs/{image.LayerDigests[0]}");
        proxy.StallNextBlobDownloads(1, 4096);

        using var http = new HttpClient();
        using (var response = await http.GetAsync(blobUri, HttpCompletionOption.ResponseHeadersRead))
        {
            await using var body = await response.Content.ReadAsStreamAsync();
            var buffer = new byte[8192];
            var received = 0;
            using var silence = new CancellationTokenSource(TimeSpan.FromSeconds(1.5));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            {
                while (true)
                {
                    received += await body.ReadAsync(buffer, silence.Token);
                }
            });
            Assert.Equal(4096, received);
        }

        proxy.Delay = TimeSpan.FromMilliseconds(400);
        var watch = Stopwatch.StartNew();
        using (var head = new HttpRequestMessage(HttpMethod.Head, blobUri))
        using (var response = await http.SendAsync(head))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(image.Layers[0].Size, response.Content.Headers.ContentLength);
        }

        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(400), $"delayed request took only {watch.Elapsed}");
        proxy.ClearFaults();
        Assert.Equal(TimeSpan.Zero, proxy.Delay);
    }
}
