using Crisp.ImageService.Api;

namespace Crisp.ImageService.Metadata;

/// <summary>What a finished pull records: every blob and snapshot it names already exists.</summary>
public sealed record NewImage(
    string Id,
    ImageConfig Config,
    long Size,
    string ManifestDigest,
    IReadOnlyList<string> ChainIds,
    IReadOnlyList<string> DiffIds);
