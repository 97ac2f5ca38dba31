using Crisp.ImageService.Api;

namespace Crisp.ImageService.Registry;

/// <summary>Who a registry request is for: the endpoint, its repository, and the credentials to offer it.</summary>
internal sealed record RequestTarget(RegistryEndpoint Endpoint, RegistryCredentials? Credentials)
{
    public string Host => Endpoint.Host;
    public string Repository => Endpoint.Repository;
    public string PullScope => $"repository:{Endpoint.Repository}:pull";

    public override string ToString() => Endpoint.ToString();
}
