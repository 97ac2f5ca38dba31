namespace Crisp.TestSupport.Layers;

/// <summary>A layer as the manifest names it (<see cref="Digest"/> of the blob) and as the config names it (<see cref="DiffId"/> of the tar).</summary>
public sealed record LayerDescriptor(string MediaType, string Digest, long Size, string DiffId, LayerCompression Compression);
