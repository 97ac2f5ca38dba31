using System.Text.Json.Nodes;
using Crisp.Cri.V1;
using Crisp.Runtime.Api;
using Crisp.Runtime.Network;
using Xunit;

namespace Crisp.Runtime.Tests.Network;

public sealed class CniAttachmentCacheTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crisp-cni-cache-").FullName;
    private string CacheDir => Path.Combine(_dir, "cni", "results");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static CniAttachment Attachment(string sandboxId, JsonObject? result = null)
    {
        var pod = new PodSandboxConfig { Metadata = new PodSandboxMetadata { Name = "p", Namespace = "ns", Uid = "u" } };
        pod.PortMappings.Add(new PortMapping { HostPort = 8080, ContainerPort = 80 });
        var network = CniNetworkConfig.Parse("""
            {"cniVersion":"1.0.0","name":"net","plugins":[{"type":"bridge","bridge":"br0"},{"type":"portmap","capabilities":{"portMappings":true}}]}
            """u8, isList: true, "/etc/cni/net.d/10.conflist");
        return new CniAttachment(sandboxId, network,
            new CniInvocation(sandboxId, $"/run/crisp/ns/{sandboxId}/net", "eth0", CniInvocation.KubernetesArgs("ns", "p", sandboxId, "u")),
            CniCapabilityArgs.For(pod, "10.0.0.0/24"), result);
    }

    [Fact]
    public async Task Save_then_load_restores_everything_DEL_needs()
    {
        var cache = new CniAttachmentCache(CacheDir);
        var result = JsonNode.Parse("""{"cniVersion":"1.0.0","ips":[{"address":"10.0.0.5/24"}]}""")!.AsObject();
        var saved = Attachment("sb1", result);

        await cache.SaveAsync(saved, CancellationToken.None);
        var loaded = new CniAttachmentCache(CacheDir).Load("sb1");

        Assert.NotNull(loaded);
        Assert.Equal("sb1", loaded.SandboxId);
        Assert.Equal(saved.Invocation, loaded.Invocation);
        Assert.Equal("net", loaded.Network.Name);
        Assert.Equal("1.0.0", loaded.Network.CniVersion);
        Assert.Equal(["bridge", "portmap"], loaded.Network.PluginTypes);
        Assert.Equal("br0", loaded.Network.Plugins[0]["bridge"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(saved.CapabilityArgs.Values, loaded.CapabilityArgs.Values));
        Assert.True(JsonNode.DeepEquals(result, loaded.Result));
        Assert.False(File.Exists(Path.Combine(CacheDir, "sb1.json.tmp")));
    }

    [Fact]
    public async Task Pending_attachment_without_result_round_trips()
    {
        var cache = new CniAttachmentCache(CacheDir);

        await cache.SaveAsync(Attachment("pending"), CancellationToken.None);

        var loaded = cache.Load("pending");
        Assert.NotNull(loaded);
        Assert.Null(loaded.Result);
    }

    [Fact]
    public async Task Add_failed_flag_round_trips_and_defaults_to_false()
    {
        var cache = new CniAttachmentCache(CacheDir);
        await cache.SaveAsync(Attachment("ok"), CancellationToken.None);
        await cache.SaveAsync(Attachment("failed") with { AddFailed = true }, CancellationToken.None);

        Assert.False(cache.Load("ok")!.AddFailed);
        Assert.True(cache.Load("failed")!.AddFailed);
    }

    [Fact]
    public async Task Saving_again_replaces_the_attachment()
    {
        var cache = new CniAttachmentCache(CacheDir);
        await cache.SaveAsync(Attachment("sb"), CancellationToken.None);

        await cache.SaveAsync(Attachment("sb", JsonNode.Parse("""{"ips":[{"address":"10.0.0.9/24"}]}""")!.AsObject()), CancellationToken.None);

        Assert.Equal(["10.0.0.9"], CniResult.PodIps(cache.Load("sb")!.Result));
        Assert.Single(cache.All());
    }

    [Fact]
    public void Unknown_sandbox_or_missing_directory_loads_null()
    {
        var cache = new CniAttachmentCache(CacheDir);

        Assert.Null(cache.Load("nobody"));
        Assert.Empty(cache.All());
    }

    [Fact]
    public async Task All_lists_every_readable_attachment_and_skips_corrupt_files()
    {
        var cache = new CniAttachmentCache(CacheDir);
        await cache.SaveAsync(Attachment("a"), CancellationToken.None);
        await cache.SaveAsync(Attachment("b"), CancellationToken.None);
        File.WriteAllText(Path.Combine(CacheDir, "corrupt.json"), "{ nope");
        File.WriteAllText(Path.Combine(CacheDir, "partial.json"), """{"sandboxId":"partial"}""");
        File.WriteAllText(Path.Combine(CacheDir, "c.json.tmp"), "{}");

        Assert.Equal(["a", "b"], cache.All().Select(a => a.SandboxId).Order());
    }

    [Fact]
    public void Corrupt_file_is_an_internal_error_naming_the_file_and_sandbox()
    {
        Directory.CreateDirectory(CacheDir);
        var path = Path.Combine(CacheDir, "bad.json");
        File.WriteAllText(path, "[1]");

        var e = Assert.Throws<RuntimeException>(() => new CniAttachmentCache(CacheDir).Load("bad"));

        Assert.Equal(RuntimeErrorKind.Internal, e.Kind);
        Assert.Contains(path, e.Message);
        Assert.Contains("bad", e.Message);
    }

    [Fact]
    public async Task Delete_removes_it_and_is_idempotent()
    {
        var cache = new CniAttachmentCache(CacheDir);
        await cache.SaveAsync(Attachment("a"), CancellationToken.None);
        await cache.SaveAsync(Attachment("b"), CancellationToken.None);

        cache.Delete("a");
        cache.Delete("a");
        cache.Delete("never");

        Assert.Null(cache.Load("a"));
        Assert.NotNull(cache.Load("b"));
        Assert.Equal(["b"], cache.All().Select(a => a.SandboxId));
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("a/b")]
    [InlineData("/abs")]
    [InlineData("..")]
    [InlineData("")]
    public async Task Ids_that_could_leave_the_directory_are_refused(string id)
    {
        var cache = new CniAttachmentCache(CacheDir);

        var save = await Assert.ThrowsAsync<RuntimeException>(() => cache.SaveAsync(Attachment(id), CancellationToken.None));
        var load = Assert.Throws<RuntimeException>(() => cache.Load(id));
        var delete = Assert.Throws<RuntimeException>(() => cache.Delete(id));

        foreach (var e in new[] { save, load, delete })
        {
            Assert.Equal(RuntimeErrorKind.InvalidArgument, e.Kind);
            Assert.Contains("pod_sandbox_id", e.Message);
        }
        Assert.False(File.Exists(Path.Combine(_dir, "cni", "escape.json")));
    }

    [Fact]
    public async Task All_while_another_pod_detaches_does_not_throw()
    {
        var cache = new CniAttachmentCache(CacheDir);
        await cache.SaveAsync(Attachment("steady"), CancellationToken.None);
        var template = Attachment("churn");
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));

        var churn = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await cache.SaveAsync(template, CancellationToken.None);
                cache.Delete("churn");
            }
        });
        var failures = new List<Exception>();
        var reads = 0;
        while (!stop.IsCancellationRequested)
        {
            try { Assert.Contains("steady", cache.All().Select(a => a.SandboxId)); }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException) { failures.Add(e); }
            reads++;
        }
        await churn;

        Assert.True(failures.Count == 0, $"{failures.Count} of {reads} listings failed, first: {failures.FirstOrDefault()}");
    }
}
