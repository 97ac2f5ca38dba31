namespace Crisp.ImageService.Registry;

/// <summary>When a mirror may serve a pull (registries.conf <c>pull-from-mirror</c>).</summary>
public enum MirrorPullPolicy
{
    All,
    DigestOnly,
    TagOnly,
}

/// <summary>A <c>[[registry.mirror]]</c> table.</summary>
public sealed record MirrorRule(string Location, bool Insecure, MirrorPullPolicy PullPolicy);

/// <summary>A <c>[[registry]]</c> table after validation; <see cref="Source"/> names the file it came from.</summary>
public sealed record RegistryRule(
    string Prefix,
    string Location,
    bool Insecure,
    bool Blocked,
    bool MirrorByDigestOnly,
    IReadOnlyList<MirrorRule> Mirrors,
    string Source)
{
    public bool IsWildcard => Prefix.StartsWith("*.", StringComparison.Ordinal);
}
