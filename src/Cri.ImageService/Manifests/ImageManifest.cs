namespace Crisp.ImageService.Manifests;

/// <summary>A single-platform image manifest, OCI or Docker schema2 (<see cref="MediaType"/> says which).</summary>
public sealed record ImageManifest(string MediaType, Descriptor Config, IReadOnlyList<Descriptor> Layers)
{
    public IReadOnlyDictionary<string, string>? Annotations { get; init; }
}
