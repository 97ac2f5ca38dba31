namespace Crisp.ImageService.Registry;

/// <summary>Facts about registry host names that decide how to talk to them.</summary>
internal static class RegistryHosts
{
    /// <summary>Docker Hub is named docker.io in references but serves its API elsewhere.</summary>
    public static string ApiHost(string registry) =>
        registry == References.ImageReference.DockerHubRegistry ? References.ImageReference.DockerHubApiHost : registry;

    public static bool IsLoopback(string hostAndPort)
    {
        string host = StripPort(hostAndPort);
        return host is "localhost" or "127.0.0.1" or "::1" or "[::1]"
            || host.StartsWith("127.", StringComparison.Ordinal) && System.Net.IPAddress.TryParse(host, out _);
    }

    /// <summary>The host name of a host[:port] as TLS sees it: no port, no IPv6 brackets, IDN in ASCII.</summary>
    public static string HostName(string hostAndPort) =>
        (Uri.TryCreate($"https://{hostAndPort}/", UriKind.Absolute, out Uri? uri) ? uri.IdnHost : StripPort(hostAndPort)).Trim('[', ']');

    /// <summary>Whether two host names (as <see cref="HostName"/> gives them, or a TLS target host) are the same host.</summary>
    public static bool SameHostName(string a, string b) =>
        string.Equals(a.Trim('[', ']'), b.Trim('[', ']'), StringComparison.OrdinalIgnoreCase);

    public static string StripPort(string hostAndPort)
    {
        if (hostAndPort.StartsWith('['))
        {
            int close = hostAndPort.IndexOf(']');
            return close < 0 ? hostAndPort : hostAndPort[..(close + 1)];
        }
        int colon = hostAndPort.IndexOf(':');
        return colon < 0 ? hostAndPort : hostAndPort[..colon];
    }
}
