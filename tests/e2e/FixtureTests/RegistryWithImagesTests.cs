using System.Text;
using System.Text.Json;
using Crisp.E2E.Fixtures;
using Xunit;

namespace Crisp.E2E.FixtureTests;

[Collection(RegistryCollection.Name)]
public sealed class RegistryWithImagesTests(RegistryWithImages registry)
{
    public static TheoryData<string> StandardImages() => new(TestImageNames.InSharedRegistry);

    public static TheoryData<string> OnDemandImages() => new([TestImageNames.Large, .. TestImageNames.Hostile]);

    [Fact]
    public void Every_standard_image_is_pushed_under_crisp_test()
    {
        Assert.Equal(TestImageNames.InSharedRegistry.Order(), registry.Images.Keys.Order());
        foreach (var name in TestImageNames.InSharedRegistry)
        {
            Assert.Equal($"{registry.Host}/crisp-test/{name}:latest", registry.Reference(name));
        }
    }

    [Fact]
    public async Task Shared_instance_is_one_registry_that_survives_dispose()
    {
        var shared = await RegistryWithImages.GetSharedAsync();
        Assert.Same(shared, await RegistryWithImages.GetSharedAsync());
        Assert.NotEqual(registry.Host, shared.Host);
        await shared.DisposeAsync();
        Assert.False(shared.Registry.HasExited);
        var raw = await ImagePusher.InspectRawAsync(shared.Reference(TestImageNames.Busybox));
        Assert.Equal(shared[TestImageNames.Busybox].Image.ManifestDigest, Sha256Digest.Of(Encoding.UTF8.GetBytes(raw)));
    }

    [Theory]
    [MemberData(nameof(StandardImages))]
    public async Task Registry_serves_each_standard_image_with_the_built_digests(string name)
    {
        var pushed = registry[name];
        await AssertServedAsIs(pushed);
    }

    [Fact]
    public async Task Docker_schema2_busybox_keeps_the_image_id_and_layers_of_the_oci_build()
    {
        var docker = registry[TestImageNames.DockerBusybox].Image;
        var oci = registry[TestImageNames.Busybox].Image;
        Assert.Equal(DockerMediaTypes.Manifest, docker.ManifestMediaType);
        Assert.NotEqual(oci.ManifestDigest, docker.ManifestDigest);
        Assert.Equal(oci.ImageId, docker.ImageId);
        Assert.Equal(oci.LayerDigests, docker.LayerDigests);
        Assert.All(docker.Layers, l => Assert.Equal(DockerMediaTypes.LayerGzip, l.MediaType));

        using var manifest = JsonDocument.Parse(await ImagePusher.InspectRawAsync(registry.Reference(TestImageNames.DockerBusybox)));
        Assert.Equal(DockerMediaTypes.Config, manifest.RootElement.GetProperty("config").GetProperty("mediaType").GetString());
    }

    [Theory]
    [MemberData(nameof(OnDemandImages))]
    public async Task Large_and_hostile_images_push_on_demand_with_the_built_digests(string name)
    {
        var pushed = await registry.EnsurePushedAsync(name);
        Assert.Same(pushed, await registry.EnsurePushedAsync(name));
        await AssertServedAsIs(pushed);
    }

    [Theory]
    [InlineData(TestImageNames.Multiplatform, OciMediaTypes.ImageIndex, OciMediaTypes.ImageManifest)]
    [InlineData(TestImageNames.DockerMultiplatform, DockerMediaTypes.ManifestList, DockerMediaTypes.Manifest)]
    public async Task Multiplatform_index_is_served_whole_and_resolves_to_the_host_image(string name, string indexMediaType, string manifestMediaType)
    {
        var pushed = registry[name];
        Assert.Equal(indexMediaType, pushed.Image.ManifestMediaType);
        Assert.All(pushed.Image.PlatformImages, p => Assert.Equal(manifestMediaType, p.ManifestMediaType));
        var raw = await ImagePusher.InspectRawAsync(pushed.Reference);
        using var index = JsonDocument.Parse(raw);
        Assert.Equal(indexMediaType, index.RootElement.GetProperty("mediaType").GetString());
        var children = index.RootElement.GetProperty("manifests").EnumerateArray().Select(m => m.GetProperty("digest").GetString()!).ToArray();
        Assert.Equal(pushed.Image.PlatformImages.Select(p => p.ManifestDigest).ToArray(), children);

        var foreign = pushed.Image.ForPlatform(OciPlatform.Foreign);
        var foreignRaw = await ImagePusher.InspectRawAsync($"{pushed.Host}/{pushed.Repository}@{foreign.ManifestDigest}");
        Assert.Equal(foreign.ManifestDigest, Sha256Digest.Of(Encoding.UTF8.GetBytes(foreignRaw)));

        using var summary = await ImagePusher.InspectAsync(pushed.Reference);
        Assert.Equal(OciPlatform.Host.Architecture, summary.RootElement.GetProperty("Architecture").GetString());
        Assert.Equal(pushed.Image.LayerDigests, summary.RootElement.GetProperty("Layers").EnumerateArray().Select(l => l.GetString()!).ToArray());
    }

    private static async Task AssertServedAsIs(PushedImage pushed)
    {
        var image = pushed.Image;
        var raw = await ImagePusher.InspectRawAsync(pushed.Reference);
        Assert.Equal(image.ManifestDigest, Sha256Digest.Of(Encoding.UTF8.GetBytes(raw)));
        var byDigest = await ImagePusher.InspectRawAsync(pushed.DigestReference);
        Assert.Equal(raw, byDigest);

        using var summary = await ImagePusher.InspectAsync(pushed.Reference);
        var root = summary.RootElement;
        Assert.Equal(image.ManifestDigest, root.GetProperty("Digest").GetString());
        Assert.Equal(image.LayerDigests, root.GetProperty("Layers").EnumerateArray().Select(l => l.GetString()!).ToArray());
        Assert.Equal(image.Layers.Count, root.GetProperty("Layers").GetArrayLength());

        var configRaw = await ImagePusher.InspectRawConfigAsync(pushed.Reference);
        Assert.Equal(image.ConfigDigest, Sha256Digest.Of(Encoding.UTF8.GetBytes(configRaw)));
        using var config = JsonDocument.Parse(configRaw);
        var body = config.RootElement.GetProperty("config");
        Assert.Equal(image.Config.Env, Strings(body.GetProperty("Env")));
        Assert.Equal(image.DiffIds, Strings(config.RootElement.GetProperty("rootfs").GetProperty("diff_ids")));
        AssertOptional(image.Config.User, body, "User");
        AssertOptional(image.Config.WorkingDir, body, "WorkingDir");
        AssertOptional(image.Config.StopSignal, body, "StopSignal");
        AssertOptionalList(image.Config.Entrypoint, body, "Entrypoint");
        AssertOptionalList(image.Config.Cmd, body, "Cmd");
        if (image.Config.Labels is { } labels)
        {
            foreach (var (key, value) in labels)
            {
                Assert.Equal(value, body.GetProperty("Labels").GetProperty(key).GetString());
            }
        }
    }

    private static void AssertOptional(string? expected, JsonElement body, string property)
    {
        if (expected is null)
        {
            Assert.False(body.TryGetProperty(property, out _), $"{property} present but not set");
        }
        else
        {
            Assert.Equal(expected, body.GetProperty(property).GetString());
        }
    }

    private static void AssertOptionalList(IReadOnlyList<string>? expected, JsonElement body, string property)
    {
        if (expected is null)
        {
            Assert.False(body.TryGetProperty(property, out _), $"{property} present but not set");
        }
        else
        {
            Assert.Equal(expected, Strings(body.GetProperty(property)));
        }
    }

    private static string[] Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToArray();
}
