using Crisp.ImageService.Api;
using Tomlyn;
using Tomlyn.Model;

namespace Crisp.ImageService.Registry;

/// <summary>
/// Reads one containers-registries.conf(5) version 2 file. Settings crisp has no use for
/// (aliases, short-name-mode, credential helpers) are accepted and ignored so a file shared with
/// podman/CRI-O works unchanged; a value of the wrong type is an error naming file and key.
/// </summary>
internal static class RegistriesConfParser
{
    public sealed record ParsedFile(IReadOnlyList<RegistryRule> Rules, IReadOnlyList<string>? UnqualifiedSearchRegistries);

    public static ParsedFile Parse(string text, string source)
    {
        TomlTable root;
        try
        {
            root = TomlSerializer.Deserialize(text, new RegistriesTomlContext(new TomlSerializerOptions { SourceName = source }).TomlTable)
                ?? new TomlTable();
        }
        catch (TomlException e)
        {
            throw Invalid(source, $"not valid TOML: {e.Message}", e);
        }

        if (root.ContainsKey("registries"))
        {
            throw Invalid(source, "the version 1 format ([registries.search]/[registries.insecure]/[registries.block]) is not supported; use [[registry]] tables");
        }

        IReadOnlyList<string>? search = null;
        if (root.TryGetValue("unqualified-search-registries", out object? searchValue))
        {
            search = StringArray(searchValue, source, "unqualified-search-registries");
        }

        var rules = new List<RegistryRule>();
        if (root.TryGetValue("registry", out object? registryValue))
        {
            if (registryValue is not TomlTableArray tables)
            {
                throw Invalid(source, "key \"registry\" must be an array of tables ([[registry]])");
            }
            int index = 0;
            foreach (TomlTable table in tables)
            {
                index++;
                rules.Add(ParseRegistry(table, source, $"[[registry]] #{index}"));
            }
        }
        return new ParsedFile(rules, search);
    }

    private static RegistryRule ParseRegistry(TomlTable table, string source, string where)
    {
        string? prefix = OptionalString(table, "prefix", source, where);
        string? location = OptionalString(table, "location", source, where);
        if (string.IsNullOrEmpty(prefix) && string.IsNullOrEmpty(location))
        {
            throw Invalid(source, $"{where}: needs \"prefix\" or \"location\"");
        }
        prefix = string.IsNullOrEmpty(prefix) ? location! : prefix;
        ValidatePrefix(prefix, source, where);
        bool wildcard = prefix.StartsWith("*.", StringComparison.Ordinal);
        if (!string.IsNullOrEmpty(location))
        {
            ValidateLocation(location, source, $"{where} key \"location\"");
        }

        var mirrors = new List<MirrorRule>();
        if (table.TryGetValue("mirror", out object? mirrorValue))
        {
            if (mirrorValue is not TomlTableArray mirrorTables)
            {
                throw Invalid(source, $"{where}: key \"mirror\" must be an array of tables ([[registry.mirror]])");
            }
            int index = 0;
            foreach (TomlTable mirror in mirrorTables)
            {
                index++;
                string mirrorWhere = $"{where} mirror #{index}";
                string mirrorLocation = OptionalString(mirror, "location", source, mirrorWhere)
                    ?? throw Invalid(source, $"{mirrorWhere}: key \"location\" is required");
                ValidateLocation(mirrorLocation, source, $"{mirrorWhere} key \"location\"");
                bool mirrorInsecure = OptionalBool(mirror, "insecure", source, mirrorWhere) ?? false;
                MirrorPullPolicy policy = (OptionalString(mirror, "pull-from-mirror", source, mirrorWhere) ?? "all") switch
                {
                    "all" or "" => MirrorPullPolicy.All,
                    "digest-only" => MirrorPullPolicy.DigestOnly,
                    "tag-only" => MirrorPullPolicy.TagOnly,
                    string other => throw Invalid(source, $"{mirrorWhere}: key \"pull-from-mirror\" must be \"all\", \"digest-only\" or \"tag-only\", not \"{other}\""),
                };
                mirrors.Add(new MirrorRule(mirrorLocation, mirrorInsecure, policy));
            }
        }

        return new RegistryRule(
            Prefix: prefix,
            // A wildcard prefix has no single location to rewrite to: the reference's own host is kept.
            Location: string.IsNullOrEmpty(location) ? (wildcard ? "" : prefix) : location,
            Insecure: OptionalBool(table, "insecure", source, where) ?? false,
            Blocked: OptionalBool(table, "blocked", source, where) ?? false,
            MirrorByDigestOnly: OptionalBool(table, "mirror-by-digest-only", source, where) ?? false,
            Mirrors: mirrors,
            Source: source);
    }

    private static void ValidatePrefix(string prefix, string source, string where)
    {
        if (prefix.StartsWith("*.", StringComparison.Ordinal))
        {
            string domain = prefix[2..];
            if (domain.Length == 0 || domain.Contains('/') || domain.Contains('*'))
            {
                throw Invalid(source, $"{where} key \"prefix\": wildcard prefix \"{prefix}\" must have the form *.example.com");
            }
            return;
        }
        if (prefix.Contains('*') || prefix.Contains("://", StringComparison.Ordinal) || prefix.Any(char.IsWhiteSpace))
        {
            throw Invalid(source, $"{where} key \"prefix\": \"{prefix}\" is not host[:port][/namespace...] or *.domain");
        }
    }

    private static void ValidateLocation(string location, string source, string where)
    {
        if (location.Contains('*') || location.Contains("://", StringComparison.Ordinal) || location.Any(char.IsWhiteSpace) || location.StartsWith('/'))
        {
            throw Invalid(source, $"{where}: \"{location}\" is not host[:port][/namespace...]");
        }
    }

    private static string? OptionalString(TomlTable table, string key, string source, string where) =>
        !table.TryGetValue(key, out object? value) ? null
        : value as string ?? throw Invalid(source, $"{where}: key \"{key}\" must be a string");

    private static bool? OptionalBool(TomlTable table, string key, string source, string where) =>
        !table.TryGetValue(key, out object? value) ? null
        : value is bool b ? b : throw Invalid(source, $"{where}: key \"{key}\" must be true or false");

    private static List<string> StringArray(object? value, string source, string key)
    {
        if (value is not TomlArray array)
        {
            throw Invalid(source, $"key \"{key}\" must be an array of strings");
        }
        var list = new List<string>();
        foreach (object? item in array)
        {
            list.Add(item as string ?? throw Invalid(source, $"key \"{key}\" must be an array of strings"));
        }
        return list;
    }

    internal static ImageServiceException Invalid(string source, string reason, Exception? inner = null) =>
        new(ImageErrorKind.InvalidArgument, $"registries configuration {source}: {reason}", inner);
}
