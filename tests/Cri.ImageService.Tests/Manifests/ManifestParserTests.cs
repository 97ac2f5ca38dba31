using System.Text;
using Crisp.ImageService.Api;
using Crisp.ImageService.Manifests;
using Xunit;
// The product's enum under test, not the layer builder's of the same name.
using LayerCompression = Crisp.ImageService.Manifests.LayerCompression;

namespace Crisp.ImageService.Tests.ManifestsTests;

public class ManifestParserTests
{
    private static readonly string D1 = "sha256:" + new string('1', 64);
    private static readonly string D2 = "sha256:" + new string('2', 64);
    private static readonly string D3 = "sha256:" + new string('3', 64);

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    private string OciManifestJson(string? mediaType = MediaTypes.OciManifest) => $$"""
        {
          "schemaVersion": 2,
          {{(mediaType is null ? "" : $"\"mediaType\": \"{mediaType}\",")}}
          "config": { "mediaType": "application/vnd.oci.image.config.v1+json", "digest": "{{D1}}", "size": 123 },
          "layers": [
            { "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "{{D2}}", "size": 456 },
            { "mediaType": "application/vnd.oci.image.layer.v1.tar+zstd", "digest": "{{D3}}", "size": 789,
              "annotations": { "org.example": "x" } }
          ],
          "annotations": { "org.opencontainers.image.created": "2024-01-01T00:00:00Z" }
        }
        """;

    [Fact]
    public void ParsesOciManifest()
    {
        ManifestDocument document = ManifestParser.Parse(Utf8(OciManifestJson()), null, "test");
        Assert.False(document.IsIndex);
        ImageManifest manifest = document.Manifest!;
        Assert.Equal(MediaTypes.OciManifest, manifest.MediaType);
        Assert.Equal(new Descriptor(MediaTypes.OciConfig, D1, 123), manifest.Config with { Annotations = null });
        Assert.Equal(2, manifest.Layers.Count);
        Assert.Equal(D3, manifest.Layers[1].Digest);
        Assert.Equal(789, manifest.Layers[1].Size);
        Assert.Equal("x", manifest.Layers[1].Annotations!["org.example"]);
        Assert.Equal("2024-01-01T00:00:00Z", manifest.Annotations!["org.opencontainers.image.created"]);
    }

    [Fact]
    public void OciManifestWithoutMediaTypeUsesContentTypeOrShape()
    {
        Assert.Equal(MediaTypes.OciManifest, ManifestParser.Parse(Utf8(OciManifestJson(null)), MediaTypes.OciManifest + "; charset=utf-8", "t").MediaType);
        Assert.Equal(MediaTypes.OciManifest, ManifestParser.Parse(Utf8(OciManifestJson(null)), "application/json", "t").MediaType);
    }

    [Fact]
    public void ParsesDockerSchema2Manifest()
    {
        string json = $$"""
            { "schemaVersion": 2, "mediaType": "{{MediaTypes.DockerManifest}}",
              "config": { "mediaType": "{{MediaTypes.DockerConfig}}", "size": 1, "digest": "{{D1}}" },
              "layers": [ { "mediaType": "{{MediaTypes.DockerLayerGzip}}", "size": 2, "digest": "{{D2}}" } ] }
            """;
        ImageManifest manifest = ManifestParser.ParseImageManifest(Utf8(json), MediaTypes.DockerManifest, "t");
        Assert.Equal(MediaTypes.DockerManifest, manifest.MediaType);
        Assert.Equal(LayerCompression.Gzip, MediaTypes.Compression(manifest.Layers[0].MediaType));
    }

    [Theory]
    [InlineData(MediaTypes.OciIndex)]
    [InlineData(MediaTypes.DockerManifestList)]
    public void ParsesIndexesWithPlatforms(string mediaType)
    {
        string json = $$"""
            { "schemaVersion": 2, "mediaType": "{{mediaType}}",
              "manifests": [
                { "mediaType": "{{MediaTypes.OciManifest}}", "digest": "{{D1}}", "size": 10, "platform": { "os": "linux", "architecture": "amd64" } },
                { "mediaType": "{{MediaTypes.OciManifest}}", "digest": "{{D2}}", "size": 11, "platform": { "os": "linux", "architecture": "arm", "variant": "v7" } }
              ] }
            """;
        ManifestDocument document = ManifestParser.Parse(Utf8(json), null, "t");
        Assert.True(document.IsIndex);
        Assert.Equal(mediaType, document.Index!.MediaType);
        Assert.Equal(new Platform("linux", "arm", "v7"), document.Index.Manifests[1].Platform);
    }

    [Theory]
    [InlineData(MediaTypes.DockerSchema1Manifest)]
    [InlineData(MediaTypes.DockerSchema1SignedManifest)]
    public void RefusesSchema1ByContentType(string contentType)
    {
        var error = Assert.Throws<ImageServiceException>(() => ManifestParser.Parse(Utf8("""{"name":"x"}"""), contentType, "image x"));
        Assert.Equal(ImageErrorKind.FailedPrecondition, error.Kind);
        Assert.Contains("schema1 manifests are not supported", error.Message);
    }

    [Fact]
    public void RefusesSchema1BySchemaVersion()
    {
        var error = Assert.Throws<ImageServiceException>(() =>
            ManifestParser.Parse(Utf8("""{"schemaVersion":1,"name":"library/busybox","fsLayers":[]}"""), "application/json", "image x"));
        Assert.Equal(ImageErrorKind.FailedPrecondition, error.Kind);
        Assert.Contains("schema1", error.Message);
    }

    [Fact]
    public void RefusesUnknownMediaTypeNamingIt()
    {
        var error = Assert.Throws<ImageServiceException>(() =>
            ManifestParser.Parse(Utf8("""{"schemaVersion":2,"mediaType":"application/vnd.example.thing+json"}"""), null, "image x"));
        Assert.Equal(ImageErrorKind.FailedPrecondition, error.Kind);
        Assert.Contains("application/vnd.example.thing+json", error.Message);
    }

    [Fact]
    public void RefusesManifestsOver4MiB()
    {
        byte[] big = new byte[ManifestParser.MaxManifestBytes + 1];
        var error = Assert.Throws<ImageServiceException>(() => ManifestParser.Parse(big, null, "image x"));
        Assert.Equal(ImageErrorKind.ResourceExhausted, error.Kind);
        Assert.Contains("manifest larger than 4 MiB", error.Message);
    }

    [Theory]
    [InlineData("""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}""", "config")]
    [InlineData("""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"a","digest":"sha256:abc","size":1},"layers":[]}""", "config.digest")]
    [InlineData("""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"a","digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111","size":-1},"layers":[]}""", "config.size")]
    [InlineData("""not json""", "not valid JSON")]
    [InlineData("""[1,2]""", "not an object")]
    public void RefusesMalformedDocuments(string json, string fragment)
    {
        var error = Assert.Throws<ImageServiceException>(() => ManifestParser.Parse(Utf8(json), null, "image x"));
        Assert.Equal(ImageErrorKind.InvalidArgument, error.Kind);
        Assert.Contains(fragment, error.Message);
        Assert.StartsWith("image x", error.Message);
    }

    [Fact]
    public void ParseImageManifestRefusesAnIndex()
    {
        string json = """{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}""";
        Assert.Equal(ImageErrorKind.FailedPrecondition,
            Assert.Throws<ImageServiceException>(() => ManifestParser.ParseImageManifest(Utf8(json), null, "t")).Kind);
    }
}
