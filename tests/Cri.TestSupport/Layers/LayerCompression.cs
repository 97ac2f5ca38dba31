namespace Crisp.TestSupport.Layers;

public enum LayerCompression
{
    None,
    Gzip,
    Zstd,
}
