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
