using Crisp.ImageService.Manifests;
using Xunit;
// The product's enum under test, not the layer builder's of the same name.
using LayerCompression = Crisp.ImageService.Manifests.LayerCompression;

namespace Crisp.ImageService.Tests.ManifestsTests;

public class MediaTypesTests
{
    [Theory]
    [InlineData(MediaTypes.OciLayer, LayerCompression.None)]
    [InlineData(MediaTypes.OciLayerGzip, LayerCompression.Gzip)]
    [InlineData(MediaTypes.OciLayerZstd, LayerCompression.Zstd)]
    [InlineData(MediaTypes.OciLayerNonDistributableGzip, LayerCompression.Gzip)]
    [InlineData(MediaTypes.DockerLayerGzip, LayerCompression.Gzip)]
    [InlineData(MediaTypes.DockerLayerForeignGzip, LayerCompression.Gzip)]
    public void LayerCompressionFollowsTheMediaType(string mediaType, LayerCompression expected)
    {
        Assert.True(MediaTypes.IsLayer(mediaType));
        Assert.Equal(expected, MediaTypes.Compression(mediaType));
    }

    [Theory]
    [InlineData(MediaTypes.OciConfig)]
    [InlineData(MediaTypes.OciManifest)]
    [InlineData("application/octet-stream")]
    public void NonLayersAreNotLayers(string mediaType)
    {
        Assert.False(MediaTypes.IsLayer(mediaType));
        Assert.Throws<ArgumentException>(() => MediaTypes.Compression(mediaType));
    }

    [Fact]
    public void AcceptListCoversAllFourManifestKinds()
    {
        Assert.Equal(4, MediaTypes.AcceptedManifestTypes.Count);
        Assert.All(MediaTypes.AcceptedManifestTypes, t => Assert.True(MediaTypes.IsManifest(t) || MediaTypes.IsIndex(t)));
        Assert.DoesNotContain(MediaTypes.AcceptedManifestTypes, MediaTypes.IsSchema1);
    }
}
