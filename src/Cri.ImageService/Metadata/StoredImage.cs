using Crisp.ImageService.Api;

namespace Crisp.ImageService.Metadata;

/// <summary>An image as the metadata database holds it.</summary>
/// <param name="Id">Config digest.</param>
/// <param name="ChainIds">Snapshot keys, lowest layer first.</param>
/// <param name="RepoTags">"registry/repository:tag" names pointing at this image.</param>
/// <param name="RepoDigests">"registry/repository@digest" names pointing at this image.</param>
public sealed record StoredImage(
    string Id,
    ImageConfig Config,
    long Size,
    string ManifestDigest,
    string? UserSpecified,
    bool Pinned,
    IReadOnlyList<string> ChainIds,
    IReadOnlyList<string> DiffIds,
    IReadOnlyList<string> RepoTags,
    IReadOnlyList<string> RepoDigests,
    DateTimeOffset Created);
