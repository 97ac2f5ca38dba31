using Crisp.ImageService.Manifests;

namespace Crisp.TestSupport.Layers;

/// <summary>A built layer as the image service's own manifest model names it, for tests that call the unpacker directly.</summary>
public static class ManifestDescriptors
{
    public static Descriptor ToManifestDescriptor(this LayerDescriptor layer) => new(layer.MediaType, layer.Digest, layer.Size);
}
