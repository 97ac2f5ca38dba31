namespace Crisp.E2E.Fixtures;

/// <summary>A catalogue image as it sits in a test registry.</summary>
public sealed record PushedImage(string Name, string Host, string Repository, string Tag, BuiltImage Image)
{
    /// <summary>"127.0.0.1:PORT/crisp-test/NAME:TAG", what a CRI PullImage request names.</summary>
    public string Reference => $"{Host}/{Repository}:{Tag}";

    /// <summary>"127.0.0.1:PORT/crisp-test/NAME@sha256:..." (the manifest or index digest).</summary>
    public string DigestReference => $"{Host}/{Repository}@{Image.ManifestDigest}";

    /// <summary>The repo digest crisp should list for the image.</summary>
    public string RepoDigest => DigestReference;
}
