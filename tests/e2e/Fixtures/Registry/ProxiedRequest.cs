namespace Crisp.E2E.Fixtures;

/// <summary>A request that went through a <see cref="RegistryProxy"/>, with what the proxy did to it (Status 0: no response head reached the client).</summary>
public sealed record ProxiedRequest(string Method, string Path, string? Range, int Status, long BodyBytesSent, RegistryFault Fault)
{
    public bool IsBlobDownload(string? digest = null) => new ProxyRequestLine(Method, Path, Range).IsBlobDownload(digest);
}
