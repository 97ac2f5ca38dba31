namespace Crisp.ImageService.Registry;

/// <summary>
/// One place an image can be pulled from: a mirror or the (possibly rewritten) registry location.
/// </summary>
/// <param name="Host">The host[:port] requests go to ("registry-1.docker.io", "127.0.0.1:5000").</param>
/// <param name="Repository">The repository path on that host after registries.conf prefix rewriting.</param>
/// <param name="Insecure">Plain HTTP allowed and TLS certificates not verified.</param>
/// <param name="IsMirror">A [[registry.mirror]] entry rather than the registry's own location.</param>
public sealed record RegistryEndpoint(string Host, string Repository, bool Insecure, bool IsMirror)
{
    /// <summary>Loopback registries are spoken to over plain HTTP, like containerd does.</summary>
    public bool IsLoopback => RegistryHosts.IsLoopback(Host);

    public override string ToString() => Host + "/" + Repository;
}
