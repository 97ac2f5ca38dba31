using System.Diagnostics;
using System.Net;
using Crisp.E2E.Fixtures;
using Xunit;

namespace Crisp.E2E.FixtureTests;

public sealed class RegistryFixtureTests
{
    [Fact]
    public async Task Anonymous_registry_serves_v2_on_loopback_and_dispose_removes_everything()
    {
        var registry = await RegistryFixture.StartAsync();
        var storage = registry.StorageDirectory;
        try
        {
            Assert.Equal($"127.0.0.1:{registry.Port}", registry.Host);
            Assert.False(registry.RequiresAuth);
            using var http = new HttpClient();
            using var response = await http.GetAsync(new Uri(registry.BaseUri, "v2/"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.True(Directory.Exists(storage));
        }
        finally
        {
            await registry.DisposeAsync();
        }

        Assert.True(registry.HasExited);
        Assert.False(Directory.Exists(storage));
        using var after = new HttpClient();
        await Assert.ThrowsAsync<HttpRequestException>(() => after.GetAsync(new Uri(registry.BaseUri, "v2/")));
    }

    [Fact]
    public async Task Htpasswd_registry_accepts_pushes_with_credentials_and_refuses_anonymous_reads()
    {
        await using var registry = await RegistryFixture.StartAsync(RegistryFixtureOptions.WithBasicAuth("crisp", "s3cret-pass"));
        var image = await TestImages.Busybox;
        using (var http = new HttpClient())
        using (var probe = await http.GetAsync(new Uri(registry.BaseUri, "v2/")))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, probe.StatusCode);
        }

        var reference = await ImagePusher.PushAsync(image, registry, "crisp-test/private");

        var withCreds = await ImagePusher.InspectRawAsync(reference, registry.Credentials);
        Assert.Equal(image.ManifestDigest, Sha256Digest.Of(System.Text.Encoding.UTF8.GetBytes(withCreds)));
        var anonymous = await ImagePusher.TryInspectRawAsync(reference);
        Assert.False(anonymous.Succeeded, "anonymous inspect of an htpasswd registry succeeded");
        Assert.Contains("authentication required", anonymous.StandardError, StringComparison.OrdinalIgnoreCase);
        var wrongPassword = await ImagePusher.TryInspectRawAsync(reference, new BasicCredentials("crisp", "wrong"));
        Assert.False(wrongPassword.Succeeded, "inspect with a wrong password succeeded");
        await Assert.ThrowsAsync<ToolFailedException>(() => ImagePusher.PushAsync(image, registry.Reference("crisp-test/anon"), credentials: null));
        var refused = await Assert.ThrowsAsync<ToolFailedException>(() => ImagePusher.PushAsync(image, registry.Reference("crisp-test/wrong"), new BasicCredentials("crisp", "not-the-password")));
        Assert.DoesNotContain("not-the-password", refused.Message, StringComparison.Ordinal);
        Assert.Contains("<redacted>", refused.CommandLine, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tls_registry_is_trusted_through_its_ca_only()
    {
        await using var registry = await RegistryFixture.StartAsync(new RegistryFixtureOptions { Tls = true });
        Assert.Equal("https", registry.BaseUri.Scheme);
        Assert.Equal(["ca.crt"], Directory.GetFiles(registry.CertificateDirectory).Select(Path.GetFileName));
        using (var trusting = registry.CreateHttpClient())
        using (var response = await trusting.GetAsync(new Uri(registry.BaseUri, "v2/")))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using (var plain = new HttpClient())
        {
            await Assert.ThrowsAsync<HttpRequestException>(() => plain.GetAsync(new Uri(registry.BaseUri, "v2/")));
        }

        var image = await TestImages.Busybox;
        var reference = await ImagePusher.PushAsync(image, registry, "crisp-test/tls");
        var verified = await ToolRunner.RunAsync("skopeo", ["inspect", "--raw", "--no-creds", "--cert-dir", registry.CertificateDirectory, "docker://" + reference]);
        Assert.True(verified.Succeeded, verified.StandardError);
        Assert.Equal(image.ManifestDigest, Sha256Digest.Of(System.Text.Encoding.UTF8.GetBytes(verified.StandardOutput)));
        var unverified = await ToolRunner.RunAsync("skopeo", ["inspect", "--raw", "--no-creds", "docker://" + reference]);
        Assert.False(unverified.Succeeded, "skopeo trusted the fixture's certificate without its CA");
        Assert.Contains("certificate", unverified.StandardError, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Blob_path_is_the_registry_copy_and_corrupting_it_breaks_verified_pulls()
    {
        await using var registry = await RegistryFixture.StartAsync();
        var image = await TestImages.GetAsync(TestImageNames.Multilayer);
        var reference = await ImagePusher.PushAsync(image, registry, "crisp-test/corruptible");
        var victim = image.LayerDigests[^1];
        var path = registry.BlobPath(victim);
        Assert.Equal(victim, Sha256Digest.Of(await File.ReadAllBytesAsync(path)));
        Assert.Equal(registry.BlobPath(image.ConfigDigest), Path.Combine(registry.StorageDirectory, "docker/registry/v2/blobs/sha256", Sha256Digest.Hex(image.ConfigDigest)[..2], Sha256Digest.Hex(image.ConfigDigest), "data"));

        await registry.CorruptBlobAsync(victim);
        Assert.NotEqual(victim, Sha256Digest.Of(await File.ReadAllBytesAsync(path)));

        var target = Directory.CreateTempSubdirectory("crisp-fixture-pull-").FullName;
        try
        {
            var pull = await ToolRunner.RunAsync("skopeo", ["copy", "--src-tls-verify=false", "--src-no-creds", "docker://" + reference, "oci:" + target + ":x"]);
            Assert.False(pull.Succeeded, "skopeo pulled an image whose layer blob was corrupted");
            Assert.Contains(Sha256Digest.Hex(victim)[..12], pull.StandardError, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(target, recursive: true);
        }
    }

    [Fact]
    public async Task Access_log_records_blob_downloads_and_api_deletes_take_effect()
    {
        await using var registry = await RegistryFixture.StartAsync();
        var image = await TestImages.GetAsync(TestImageNames.EnvWorkdir);
        const string repository = "crisp-test/deletable";
        var reference = await ImagePusher.PushAsync(image, registry, repository);
        var layer = image.LayerDigests[^1];
        Assert.DoesNotContain(registry.Requests, r => r.IsBlobDownload(layer));

        var target = Directory.CreateTempSubdirectory("crisp-fixture-pull-").FullName;
        try
        {
            await ToolRunner.RunCheckedAsync("skopeo", ["copy", "--src-tls-verify=false", "--src-no-creds", "docker://" + reference, "oci:" + target + ":x"]);
        }
        finally
        {
            Directory.Delete(target, recursive: true);
        }

        Assert.True(await registry.WaitForRequestAsync(r => r.IsBlobDownload(layer) && r.Status == 200, TimeSpan.FromSeconds(5)), registry.RecentLog);

        await registry.DeleteBlobAsync(repository, layer);
        using (var http = new HttpClient())
        using (var head = new HttpRequestMessage(HttpMethod.Head, new Uri(registry.BaseUri, $"v2/{repository}/blobs/{layer}")))
        using (var response = await http.SendAsync(head))
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        await registry.DeleteManifestAsync(repository, image.ManifestDigest);
        var gone = await ImagePusher.TryInspectRawAsync(reference);
        Assert.False(gone.Succeeded, "the tag still resolves after its manifest was deleted");
    }

    [Fact]
    public async Task Registries_started_together_get_distinct_ports_and_storage()
    {
        await using var first = await RegistryFixture.StartAsync();
        await using var second = await RegistryFixture.StartAsync();
        Assert.NotEqual(first.Port, second.Port);
        Assert.NotEqual(first.StorageDirectory, second.StorageDirectory);
    }

    [Fact]
    public async Task Cancelled_tool_run_kills_the_process()
    {
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var watch = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ToolRunner.RunAsync("/bin/busybox", ["sleep", "30"], cancellation.Token));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"cancel took {watch.Elapsed}");
    }
}
