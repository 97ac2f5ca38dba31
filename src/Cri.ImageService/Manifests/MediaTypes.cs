namespace Crisp.ImageService.Manifests;

/// <summary>How a layer blob is compressed, as its media type says.</summary>
public enum LayerCompression
{
    None,
    Gzip,
    Zstd,
}

/// <summary>The OCI and Docker media types crisp understands, and what each one means.</summary>
public static class MediaTypes
{
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    public const string OciConfig = "application/vnd.oci.image.config.v1+json";
    public const string OciLayer = "application/vnd.oci.image.layer.v1.tar";
    public const string OciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
    public const string OciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
    public const string OciLayerNonDistributable = "application/vnd.oci.image.layer.nondistributable.v1.tar";
    public const string OciLayerNonDistributableGzip = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
    public const string OciLayerNonDistributableZstd = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";

    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
    public const string DockerConfig = "application/vnd.docker.container.image.v1+json";
    public const string DockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    public const string DockerLayerForeignGzip = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
    /// <summary>Some old tools wrote uncompressed Docker layers with this type.</summary>
    public const string DockerLayer = "application/vnd.docker.image.rootfs.diff.tar";

    public const string DockerSchema1Manifest = "application/vnd.docker.distribution.manifest.v1+json";
    public const string DockerSchema1SignedManifest = "application/vnd.docker.distribution.manifest.v1+prettyjws";

    /// <summary>The Accept header of a manifest request: everything <see cref="IsManifest"/> or <see cref="IsIndex"/> accepts.</summary>
    public static readonly IReadOnlyList<string> AcceptedManifestTypes = [OciIndex, DockerManifestList, OciManifest, DockerManifest];

    public static bool IsManifest(string mediaType) => mediaType is OciManifest or DockerManifest;

    public static bool IsIndex(string mediaType) => mediaType is OciIndex or DockerManifestList;

    public static bool IsSchema1(string mediaType) => mediaType is DockerSchema1Manifest or DockerSchema1SignedManifest;

    public static bool IsConfig(string mediaType) => mediaType is OciConfig or DockerConfig;

    public static bool IsLayer(string mediaType) => TryGetCompression(mediaType, out _);

    /// <summary>The compression of a layer media type; throws <see cref="ArgumentException"/> for non-layers.</summary>
    public static LayerCompression Compression(string mediaType) =>
        TryGetCompression(mediaType, out LayerCompression compression)
            ? compression
            : throw new ArgumentException($"media type \"{mediaType}\" is not a known layer type", nameof(mediaType));

    public static bool TryGetCompression(string mediaType, out LayerCompression compression)
    {
        switch (mediaType)
        {
            case OciLayer or OciLayerNonDistributable or DockerLayer:
                compression = LayerCompression.None;
                return true;
            case OciLayerGzip or OciLayerNonDistributableGzip or DockerLayerGzip or DockerLayerForeignGzip:
                compression = LayerCompression.Gzip;
                return true;
            case OciLayerZstd or OciLayerNonDistributableZstd:
                compression = LayerCompression.Zstd;
                return true;
            default:
                compression = LayerCompression.None;
                return false;
        }
    }
}
