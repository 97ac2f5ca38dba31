using System.Text.RegularExpressions;

namespace Crisp.E2E.Fixtures;

/// <summary>One request from the registry's access log, e.g. to prove a layer was (not) downloaded.</summary>
public sealed partial record RegistryRequest(string Method, string Path, int Status, string UserAgent)
{
    /// <summary>A GET of a blob (<c>/v2/REPO/blobs/DIGEST</c>), i.e. an actual download.</summary>
    public bool IsBlobDownload(string digest) =>
        Method == "GET" && Path.EndsWith("/blobs/" + digest, StringComparison.Ordinal);

    /// <summary>Parses a distribution access-log line (combined log format); null for any other log line.</summary>
    public static RegistryRequest? TryParse(string line)
    {
        var match = AccessLogLine().Match(line);
        return match.Success
            ? new RegistryRequest(match.Groups["method"].Value, match.Groups["path"].Value, int.Parse(match.Groups["status"].Value), match.Groups["agent"].Value)
            : null;
    }

    [GeneratedRegex("""^\S+ - \S+ \[[^\]]+\] "(?<method>[A-Z]+) (?<path>\S+) HTTP/[0-9.]+" (?<status>\d{3}) \S+ "[^"]*" "(?<agent>[^"]*)"$""")]
    private static partial Regex AccessLogLine();
}
