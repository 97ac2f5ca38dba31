namespace Crisp.E2E.Fixtures;

public enum LayerCompression
{
    None,
    Gzip,
    Zstd,
}
