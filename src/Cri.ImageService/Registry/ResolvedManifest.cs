using Crisp.ImageService.Api;
using Crisp.ImageService.Manifests;
using Crisp.ImageService.References;

namespace Crisp.ImageService.Registry;

/// <summary>The platform manifest a reference resolved to, and where it came from.</summary>
/// <param name="Reference">The reference as the caller asked for it.</param>
/// <param name="Endpoint">The mirror or location that answered; blobs are fetched from it too.</param>
/// <param name="ManifestDigest">Digest of the platform-specific manifest.</param>
/// <param name="RepoDigest">name@digest of what the tag pointed at: the index digest for an index, else the manifest digest.</param>
/// <param name="Manifest">The parsed platform manifest.</param>
/// <param name="ManifestBytes">The platform manifest exactly as served (its sha256 is <paramref name="ManifestDigest"/>).</param>
/// <param name="Credentials">Credentials to reuse for blob requests.</param>
public sealed record ResolvedManifest(
    ImageReference Reference,
    RegistryEndpoint Endpoint,
    string ManifestDigest,
    string RepoDigest,
    ImageManifest Manifest,
    byte[] ManifestBytes,
    RegistryCredentials? Credentials)
{
    /// <summary>The index or manifest list the tag pointed at, when there was one (exact bytes as served).</summary>
    public byte[]? IndexBytes { get; init; }

    /// <summary>The media type of <see cref="IndexBytes"/>, when there was an index.</summary>
    public string? IndexMediaType { get; init; }

    public override string ToString() => $"ResolvedManifest({Reference} → {ManifestDigest} via {Endpoint})";
}
