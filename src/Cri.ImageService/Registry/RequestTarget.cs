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
    /// realm): over TLS wherever the registry points, but in plain HTTP only to the registry host
    /// itself, and only when that host is spoken to in plain HTTP anyway (marked insecure, or on
    /// loopback, where the bytes never leave the node). A realm elsewhere over plain HTTP would
    /// hand the password to anyone on the path.
    /// </summary>
    public bool MaySendCredentialsTo(Uri destination) =>
        destination.Scheme == Uri.UriSchemeHttps
        || destination.Scheme == Uri.UriSchemeHttp
            && (Endpoint.Insecure || Endpoint.IsLoopback)
            && Uri.TryCreate($"http://{Host}", UriKind.Absolute, out Uri? registry)
            && string.Equals(destination.Authority, registry.Authority, StringComparison.OrdinalIgnoreCase);

    public override string ToString() => Endpoint.ToString();
}
