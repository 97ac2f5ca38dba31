namespace Crisp.E2E.Fixtures;

/// <summary>
/// An image written to an OCI layout directory, with every digest a test needs to check what crisp reports.
/// For a multi-platform index, <see cref="ManifestDigest"/> is the index's digest and the config/layer
/// properties are those of the host platform's image (the one a runtime on this machine must pick).
/// </summary>
public sealed record BuiltImage
{
    /// <summary>Catalogue name ("busybox", "whiteouts", ...), used for repository names.</summary>
    public required string Name { get; init; }

    public required string LayoutDirectory { get; init; }

    public required string Tag { get; init; }

    /// <summary>Digest of the manifest (or of the index for a multi-platform image): what a registry pull by digest resolves.</summary>
    public required string ManifestDigest { get; init; }

    public required string ManifestMediaType { get; init; }

    public required long ManifestSize { get; init; }

    /// <summary>Digest of the config blob: the image id crisp must report ("sha256:...").</summary>
    public required string ConfigDigest { get; init; }

    public required long ConfigSize { get; init; }

    public required ImageConfigSpec Config { get; init; }

    public required IReadOnlyList<LayerDescriptor> Layers { get; init; }

    /// <summary>Per-platform images of an index (empty for a single-platform image).</summary>
    public IReadOnlyList<BuiltImage> PlatformImages { get; init; } = [];

    public string ImageId => ConfigDigest;

    public bool IsIndex => ManifestMediaType is OciMediaTypes.ImageIndex or DockerMediaTypes.ManifestList;

    public OciPlatform Platform => Config.Platform;

    public IReadOnlyList<string> LayerDigests => Layers.Select(l => l.Digest).ToArray();

    public IReadOnlyList<string> DiffIds => Layers.Select(l => l.DiffId).ToArray();

    /// <summary>Sum of the layer blob sizes (what a pull transfers, config aside).</summary>
    public long CompressedSize => Layers.Sum(l => l.Size);

    /// <summary>The skopeo source of this image, "oci:DIR:TAG".</summary>
    public string OciReference => $"oci:{LayoutDirectory}:{Tag}";

    public string BlobPath(string digest) => Path.Combine(LayoutDirectory, "blobs", "sha256", Sha256Digest.Hex(digest));

    /// <summary>The single-platform manifests: the platform images of an index, or the image itself.</summary>
    public IReadOnlyList<BuiltImage> AllManifests() => IsIndex ? PlatformImages : [this];

    public BuiltImage ForPlatform(OciPlatform platform) =>
        PlatformImages.FirstOrDefault(p => p.Platform == platform)
        ?? throw new ArgumentException($"image '{Name}' has no {platform} variant (has: {string.Join(", ", PlatformImages.Select(p => p.Platform))})", nameof(platform));
}
