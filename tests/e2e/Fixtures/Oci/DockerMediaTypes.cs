namespace Crisp.E2E.Fixtures;

/// <summary>Docker image manifest v2 schema 2 media types (what most real registries still serve).</summary>
public static class DockerMediaTypes
{
    public const string Manifest = "application/vnd.docker.distribution.manifest.v2+json";
    public const string ManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
    public const string Config = "application/vnd.docker.container.image.v1+json";
    public const string LayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
}
