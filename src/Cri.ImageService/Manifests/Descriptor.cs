namespace Crisp.ImageService.Manifests;

/// <summary>An OCI content descriptor: what a manifest or index says about a blob it points at.</summary>
public sealed record Descriptor(
    string MediaType,
    string Digest,
    long Size,
    IReadOnlyList<string>? Urls = null,
    Platform? Platform = null,
    IReadOnlyDictionary<string, string>? Annotations = null);
