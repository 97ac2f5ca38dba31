namespace Crisp.E2E.Fixtures;

/// <summary>An OCI content descriptor (mediaType, digest, size) with the optional platform of index entries.</summary>
public sealed record OciDescriptor(string MediaType, string Digest, long Size, OciPlatform? Platform = null);
