using Crisp.ImageService.Manifests;

namespace Crisp.TestSupport.Layers;

/// <summary>A built layer: uncompressed tar, compressed blob and the descriptor and diff ID a manifest would carry.</summary>
public sealed record Layer(byte[] Tar, byte[] Blob, Descriptor Descriptor, string DiffId);
