using System.Security.Cryptography;
using System.Text;
using Crisp.ImageService.Api;

namespace Crisp.ImageService.Registry;

/// <summary>What a <see cref="RegistryCredentials"/> can be used as, decoded once.</summary>
internal sealed class CredentialMaterial
{
    private CredentialMaterial(string? username, string? password, string? identityToken, string? registryToken, string cacheKey)
    {
        Username = username;
        Password = password;
        IdentityToken = identityToken;
        RegistryToken = registryToken;
        CacheKey = cacheKey;
    }

    public static CredentialMaterial Anonymous { get; } = new(null, null, null, null, "anonymous");

    public string? Username { get; }
    public string? Password { get; }
    public string? IdentityToken { get; }
    public string? RegistryToken { get; }

    /// <summary>A hash that tells credentials apart in caches without keeping them readable there.</summary>
    public string CacheKey { get; }

    public bool HasBasic => !string.IsNullOrEmpty(Username);
    public bool IsAnonymous => !HasBasic && IdentityToken is null && RegistryToken is null;

    public string BasicHeaderValue() =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Username}:{Password}"));

    public static CredentialMaterial From(RegistryCredentials? credentials)
    {
        if (credentials is null)
        {
            return Anonymous;
        }
        string? username = NullIfEmpty(credentials.Username);
        string? password = credentials.Password;
        if (username is null && !string.IsNullOrEmpty(credentials.Auth))
        {
            (username, password) = DecodeAuth(credentials.Auth);
        }
        string? identityToken = NullIfEmpty(credentials.IdentityToken);
        string? registryToken = NullIfEmpty(credentials.RegistryToken);
        if (username is null && identityToken is null && registryToken is null)
        {
            return Anonymous;
        }

        byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\0', username, password, identityToken, registryToken)));
        return new CredentialMaterial(username, password, identityToken, registryToken, Convert.ToHexStringLower(hash.AsSpan(0, 16)));
    }

    private static (string Username, string Password) DecodeAuth(string auth)
    {
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(auth.Trim()));
        }
        catch (FormatException e)
        {
            throw new ImageServiceException(ImageErrorKind.InvalidArgument, "auth.auth is not valid base64 of \"username:password\"", e);
        }
        int colon = decoded.IndexOf(':');
        if (colon <= 0)
        {
            throw new ImageServiceException(ImageErrorKind.InvalidArgument, "auth.auth does not decode to \"username:password\"");
        }
        return (decoded[..colon], decoded[(colon + 1)..]);
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    public override string ToString() => "CredentialMaterial(redacted)";
}
