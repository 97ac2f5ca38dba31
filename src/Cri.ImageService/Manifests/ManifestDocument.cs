namespace Crisp.ImageService.Manifests;

/// <summary>A parsed manifest-like document: exactly one of <see cref="Manifest"/> and <see cref="Index"/> is set.</summary>
public sealed record ManifestDocument(string MediaType, ImageManifest? Manifest, ImageIndex? Index)
{
    public bool IsIndex => Index is not null;
}
