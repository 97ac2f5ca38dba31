using Crisp.ImageService.Api;
using Crisp.ImageService.References;

namespace Crisp.ImageService.Registry;

/// <summary>
/// Per-registry settings from containers-registries.conf(5) v2: which endpoints (mirrors, then the
/// possibly rewritten location) serve a reference, which are insecure, which are blocked.
/// Immutable; load a new one to pick up file changes.
/// </summary>
public sealed class RegistryConfiguration
{
    private readonly IReadOnlyList<RegistryRule> _rules;

    private RegistryConfiguration(IReadOnlyList<RegistryRule> rules, IReadOnlyList<string> unqualifiedSearchRegistries)
    {
        _rules = rules;
        UnqualifiedSearchRegistries = unqualifiedSearchRegistries;
    }

    /// <summary>No per-registry settings: every reference is pulled from its own registry over HTTPS.</summary>
    public static RegistryConfiguration Empty { get; } = new([], []);

    /// <summary>
    /// Parsed for completeness only: crisp always qualifies short names with docker.io, because the
    /// kubelet has already normalised the name it shows the user that way.
    /// </summary>
    public IReadOnlyList<string> UnqualifiedSearchRegistries { get; }

    public IReadOnlyList<RegistryRule> Rules => _rules;

    /// <summary>
    /// Reads <paramref name="path"/> (absent means empty) and then every "*.conf" file in
    /// <paramref name="dirPath"/> in lexical order; a later [[registry]] with the same prefix replaces
    /// an earlier one, a later unqualified-search-registries replaces the earlier list.
    /// </summary>
    public static RegistryConfiguration Load(string path, string? dirPath)
    {
        var files = new List<string>();
        if (File.Exists(path))
        {
            files.Add(path);
        }
        if (!string.IsNullOrEmpty(dirPath) && Directory.Exists(dirPath))
        {
            var dropIns = Directory.GetFiles(dirPath, "*.conf");
            Array.Sort(dropIns, StringComparer.Ordinal);
            files.AddRange(dropIns);
        }

        var sources = new List<(string Text, string Source)>();
        foreach (string file in files)
        {
            string text;
            try
            {
                text = File.ReadAllText(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw RegistriesConfParser.Invalid(file, $"cannot be read: {e.Message}", e);
            }
            sources.Add((text, file));
        }
        return FromTexts(sources);
    }

    /// <summary>Builds a configuration from file contents in override order (tests, embedded config).</summary>
    public static RegistryConfiguration FromTexts(IEnumerable<(string Text, string Source)> files)
    {
        var byPrefix = new Dictionary<string, RegistryRule>(StringComparer.Ordinal);
        var order = new List<string>();
        IReadOnlyList<string> search = [];
        foreach ((string text, string source) in files)
        {
            RegistriesConfParser.ParsedFile parsed = RegistriesConfParser.Parse(text, source);
            var seenInFile = new HashSet<string>(StringComparer.Ordinal);
            foreach (RegistryRule rule in parsed.Rules)
            {
                if (!seenInFile.Add(rule.Prefix))
                {
                    throw RegistriesConfParser.Invalid(source, $"prefix \"{rule.Prefix}\" is defined more than once");
                }
                if (!byPrefix.ContainsKey(rule.Prefix))
                {
                    order.Add(rule.Prefix);
                }
                byPrefix[rule.Prefix] = rule;
            }
            if (parsed.UnqualifiedSearchRegistries is not null)
            {
                search = parsed.UnqualifiedSearchRegistries;
            }
        }
        return new RegistryConfiguration(order.Select(p => byPrefix[p]).ToList(), search);
    }

    /// <summary>The [[registry]] table that applies to <paramref name="reference"/> (longest prefix), or null.</summary>
    public RegistryRule? FindRule(ImageReference reference)
    {
        RegistryRule? best = null;
        int bestLength = -1;
        foreach (RegistryRule rule in _rules)
        {
            int length = MatchLength(rule, reference);
            if (length > bestLength)
            {
                best = rule;
                bestLength = length;
            }
        }
        return best;
    }

    /// <summary>
    /// Where to pull <paramref name="reference"/> from, in the order to try: mirrors as listed,
    /// then the registry's location. Throws PermissionDenied when the registry is blocked.
    /// </summary>
    public IReadOnlyList<RegistryEndpoint> EndpointsFor(ImageReference reference)
    {
        RegistryRule? rule = FindRule(reference);
        if (rule is null)
        {
            return [new RegistryEndpoint(RegistryHosts.ApiHost(reference.Registry), reference.Repository, Insecure: false, IsMirror: false)];
        }
        if (rule.Blocked)
        {
            throw new ImageServiceException(ImageErrorKind.PermissionDenied,
                $"registry {reference.Registry} is blocked by registries.conf (prefix \"{rule.Prefix}\" in {rule.Source}); cannot pull {reference}");
        }

        int matched = rule.IsWildcard ? reference.Registry.Length : MatchLength(rule, reference);
        var endpoints = new List<RegistryEndpoint>(rule.Mirrors.Count + 1);
        bool byDigest = reference.Digest is not null;
        foreach (MirrorRule mirror in rule.Mirrors)
        {
            bool allowed = mirror.PullPolicy switch
            {
                MirrorPullPolicy.DigestOnly => byDigest,
                MirrorPullPolicy.TagOnly => !byDigest,
                _ => byDigest || !rule.MirrorByDigestOnly,
            };
            if (allowed)
            {
                endpoints.Add(Rewrite(reference, rule, matched, mirror.Location, mirror.Insecure, isMirror: true));
            }
        }
        endpoints.Add(Rewrite(reference, rule, matched, rule.Location, rule.Insecure, isMirror: false));
        return endpoints;
    }

    /// <summary>How many characters of the reference the rule's prefix covers; -1 when it does not apply.</summary>
    private static int MatchLength(RegistryRule rule, ImageReference reference)
    {
        string prefix = rule.Prefix;
        if (rule.IsWildcard)
        {
            // "*.example.com" covers hosts below example.com but not example.com itself. It counts
            // as one character shorter than the host, so a table naming that exact host wins.
            string host = RegistryHosts.StripPort(reference.Registry);
            return host.EndsWith(prefix[1..], StringComparison.Ordinal) && host.Length > prefix.Length - 1
                ? reference.Registry.Length - 1
                : -1;
        }
        if (!prefix.Contains('/'))
        {
            return reference.Registry == prefix ? prefix.Length : -1;
        }
        string full = reference.ToString();
        if (!full.StartsWith(prefix, StringComparison.Ordinal))
        {
            return -1;
        }
        if (full.Length == prefix.Length)
        {
            return prefix.Length;
        }
        char next = full[prefix.Length];
        string name = reference.Name;
        if (prefix.Length < name.Length)
        {
            return next == '/' ? prefix.Length : -1;
        }
        return prefix.Length == name.Length || next is ':' or '@' ? prefix.Length : -1;
    }

    private static RegistryEndpoint Rewrite(ImageReference reference, RegistryRule rule, int matched, string location, bool insecure, bool isMirror)
    {
        string name = reference.Name;
        string rewritten;
        if (location.Length == 0)
        {
            rewritten = name;
        }
        else if (matched >= name.Length)
        {
            // The prefix named a tag or digest too: the location is the whole repository.
            rewritten = StripTagAndDigest(location);
        }
        else
        {
            rewritten = location + name[matched..];
        }

        int slash = rewritten.IndexOf('/');
        if (slash <= 0 || slash == rewritten.Length - 1)
        {
            throw RegistriesConfParser.Invalid(rule.Source,
                $"prefix \"{rule.Prefix}\" rewrites {reference.Name} to \"{rewritten}\", which names no repository");
        }
        string host = rewritten[..slash];
        string repository = rewritten[(slash + 1)..];
        if (host == ImageReference.DockerHubRegistry && !repository.Contains('/'))
        {
            repository = "library/" + repository;
        }
        return new RegistryEndpoint(RegistryHosts.ApiHost(host), repository, insecure, isMirror);
    }

    private static string StripTagAndDigest(string location)
    {
        int at = location.IndexOf('@');
        if (at >= 0)
        {
            location = location[..at];
        }
        int colon = location.LastIndexOf(':');
        return colon > location.LastIndexOf('/') && location.Contains('/') ? location[..colon] : location;
    }
}
