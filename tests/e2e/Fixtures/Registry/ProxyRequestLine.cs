namespace Crisp.E2E.Fixtures;

/// <summary>What a <see cref="RegistryProxy"/> fault predicate sees of a request before deciding.</summary>
public sealed record ProxyRequestLine(string Method, string Path, string? Range)
{
    public bool IsManifest => Path.Contains("/manifests/", StringComparison.Ordinal);

    /// <summary>A blob download (GET /v2/REPO/blobs/DIGEST), optionally of one digest.</summary>
    public bool IsBlobDownload(string? digest = null) =>
        Method == "GET"
        && !Path.Contains("/uploads/", StringComparison.Ordinal)
        && (digest is null ? Path.Contains("/blobs/sha256:", StringComparison.Ordinal) : Path.EndsWith("/blobs/" + digest, StringComparison.Ordinal));
}
