using System.Security.Cryptography;

namespace Crisp.TestSupport.Oci;

public static class Sha256Digest
{
    /// <summary>"sha256:&lt;hex&gt;" of the bytes, the OCI digest form.</summary>
    public static string Of(ReadOnlySpan<byte> content) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));

    public static string Hex(string digest) =>
        digest.StartsWith("sha256:", StringComparison.Ordinal) ? digest["sha256:".Length..] : throw new ArgumentException($"not a sha256 digest: '{digest}'", nameof(digest));
}
