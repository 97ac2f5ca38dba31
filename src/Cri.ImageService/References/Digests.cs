using System.Security.Cryptography;

namespace Crisp.ImageService.References;

/// <summary>
/// Content digests as "algorithm:hex". Only sha256 is accepted: it is what every registry and the
/// content store use, and accepting algorithms nobody can verify would only defer the failure.
/// </summary>
public static class Digests
{
    public const string Sha256Prefix = "sha256:";
    private const int Sha256HexLength = 64;

    public static bool IsValid(string? digest) => Validate(digest) is null;

    /// <summary>Why <paramref name="digest"/> is not a valid digest, or null when it is.</summary>
    public static string? Validate(string? digest)
    {
        if (string.IsNullOrEmpty(digest))
        {
            return "digest is empty";
        }
        int colon = digest.IndexOf(':');
        if (colon <= 0)
        {
            return "digest must have the form algorithm:hex";
        }
        string algorithm = digest[..colon];
        if (algorithm != "sha256")
        {
            return $"unsupported digest algorithm \"{algorithm}\" (only sha256)";
        }
        ReadOnlySpan<char> hex = digest.AsSpan(colon + 1);
        if (hex.Length != Sha256HexLength)
        {
            return $"sha256 digest must have {Sha256HexLength} hex characters, got {hex.Length}";
        }
        foreach (char c in hex)
        {
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c))
            {
                return "sha256 digest must be lowercase hex";
            }
        }
        return null;
    }

    /// <summary>"sha256:&lt;hex&gt;" of <paramref name="content"/>.</summary>
    public static string Sha256Of(ReadOnlySpan<byte> content)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(content, hash);
        return Sha256Prefix + Convert.ToHexStringLower(hash);
    }
}
