using Crisp.ImageService.Api;

namespace Crisp.ImageService.Registry;

/// <summary>Who a registry request is for: the endpoint, its repository, and the credentials to offer it.</summary>
internal sealed record RequestTarget(RegistryEndpoint Endpoint, RegistryCredentials? Credentials)
{
    public string Host => Endpoint.Host;
    public string Repository => Endpoint.Repository;
    public string PullScope => $"repository:{Endpoint.Repository}:pull";

    /// <summary>
    /// Whether this target's credentials may be sent to <paramref name="destination"/> (a token
    /// realm): over TLS wherever the registry points, but in plain HTTP only to the registry's own
    /// host, and only when that host is spoken to in plain HTTP anyway (marked insecure, or on
    /// loopback, where the bytes never leave the node). The host name is compared, not the port:
    /// whoever can read plain HTTP to one port of a host reads every port of it, the registry's
    /// own requests included. A realm on another host would hand the secret to the path there.
    /// </summary>
    public bool MaySendCredentialsTo(Uri destination) =>
        destination.Scheme == Uri.UriSchemeHttps
        || destination.Scheme == Uri.UriSchemeHttp
            && (Endpoint.Insecure || Endpoint.IsLoopback)
            && RegistryHosts.SameHostName(destination.IdnHost, RegistryHosts.HostName(Host));

    public override string ToString() => Endpoint.ToString();
}
