namespace Crisp.E2E.Fixtures;

/// <summary>A registry username/password pair (test-only values; never real secrets).</summary>
public sealed record BasicCredentials(string Username, string Password)
{
    /// <summary>The "user:pass" form skopeo's --creds options take.</summary>
    public string ToSkopeoArgument() => $"{Username}:{Password}";
}
