using System.Globalization;
using Google.Protobuf;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Crisp.Server.Streaming;

/// <summary>
/// The HTTP endpoint the kubelet connects to for exec, attach and port-forward. The CRI RPCs only register the
/// request and hand back a URL; the stream itself runs on this endpoint, upgraded to SPDY/3.1 or WebSocket.
/// </summary>
public sealed class StreamingServer(IServer server, StreamingRequestCache cache, StreamingListenAddress listen)
{
    public const string ExecPath = "/exec/";
    public const string AttachPath = "/attach/";
    public const string PortForwardPath = "/portforward/";

    private string? _baseUrl;

    /// <summary>The port Kestrel really bound (the configured one may be 0).</summary>
    public int Port => new Uri(BaseUrl).Port;

    public string Register(string path, IMessage request) => BaseUrl + path + cache.Add(request);

    private string BaseUrl => _baseUrl ??= ResolveBaseUrl();

    private string ResolveBaseUrl()
    {
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        foreach (var address in addresses)
        {
            if (!address.StartsWith("http://", StringComparison.Ordinal) || address.Contains("unix:", StringComparison.Ordinal)) continue;
            var uri = new Uri(address);
            if (listen.Port != 0 && uri.Port != listen.Port) continue;
            return $"http://{FormatHost(listen.Host)}:{uri.Port.ToString(CultureInfo.InvariantCulture)}";
        }
        throw new InvalidOperationException($"the streaming server is not listening (addresses: {string.Join(", ", addresses)})");
    }

    private static string FormatHost(string host) => host.Contains(':') && !host.StartsWith('[') ? $"[{host}]" : host;
}

/// <summary>The configured streaming address, split once.</summary>
public sealed record StreamingListenAddress(string Host, int Port)
{
    public static StreamingListenAddress Parse(string address)
    {
        var colon = address.LastIndexOf(':');
        var host = address[..colon].Trim('[', ']');
        return new StreamingListenAddress(host, int.Parse(address[(colon + 1)..], CultureInfo.InvariantCulture));
    }
}
