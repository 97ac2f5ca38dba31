namespace Crisp.ImageService.Registry;

/// <summary>One challenge of a WWW-Authenticate header (RFC 7235): a scheme and its parameters.</summary>
public sealed record AuthChallenge(string Scheme, IReadOnlyDictionary<string, string> Parameters)
{
    public bool IsBearer => Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase);
    public bool IsBasic => Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase);

    public string? Realm => Parameters.GetValueOrDefault("realm");
    public string? Service => Parameters.GetValueOrDefault("service");
    public string? Scope => Parameters.GetValueOrDefault("scope");

    /// <summary>
    /// Parses every challenge in one header value, e.g.
    /// <c>Bearer realm="https://auth.example/token",service="registry.example", Basic realm="x"</c>.
    /// Malformed trailing input is dropped rather than failing the pull: the registry's 401 is
    /// reported either way.
    /// </summary>
    public static IReadOnlyList<AuthChallenge> Parse(string header)
    {
        var challenges = new List<AuthChallenge>();
        int i = 0;
        while (true)
        {
            SkipSeparators(header, ref i);
            string scheme = ReadToken(header, ref i);
            if (scheme.Length == 0)
            {
                break;
            }
            var parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            while (true)
            {
                int itemStart = i;
                SkipSeparators(header, ref i);
                string name = ReadToken(header, ref i);
                SkipSpaces(header, ref i);
                if (name.Length == 0 || i >= header.Length || header[i] != '=')
                {
                    // Not "name=value": the start of the next challenge (or garbage).
                    i = itemStart;
                    break;
                }
                i++;
                SkipSpaces(header, ref i);
                string? value = i < header.Length && header[i] == '"' ? ReadQuoted(header, ref i) : ReadToken(header, ref i);
                if (value is null)
                {
                    break;
                }
                parameters.TryAdd(name, value);
                SkipSpaces(header, ref i);
                if (i >= header.Length || header[i] != ',')
                {
                    break;
                }
            }
            challenges.Add(new AuthChallenge(scheme, parameters));
            if (i >= header.Length)
            {
                break;
            }
            int before = i;
            SkipSeparators(header, ref i);
            if (i == before && i < header.Length && !IsTokenChar(header[i]))
            {
                break;
            }
        }
        return challenges;
    }

    private static void SkipSpaces(string s, ref int i)
    {
        while (i < s.Length && (s[i] == ' ' || s[i] == '\t'))
        {
            i++;
        }
    }

    private static void SkipSeparators(string s, ref int i)
    {
        while (i < s.Length && (s[i] == ' ' || s[i] == '\t' || s[i] == ','))
        {
            i++;
        }
    }

    private static bool IsTokenChar(char c) =>
        char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~/:".Contains(c);

    private static string ReadToken(string s, ref int i)
    {
        int start = i;
        while (i < s.Length && IsTokenChar(s[i]))
        {
            i++;
        }
        return s[start..i];
    }

    private static string? ReadQuoted(string s, ref int i)
    {
        var value = new System.Text.StringBuilder();
        i++;
        while (i < s.Length)
        {
            char c = s[i++];
            if (c == '"')
            {
                return value.ToString();
            }
            if (c == '\\' && i < s.Length)
            {
                c = s[i++];
            }
            value.Append(c);
        }
        return null;
    }
}
