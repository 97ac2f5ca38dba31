namespace Crisp.Server.Streaming;

/// <summary>
/// The versions of the Kubernetes remote command protocol (exec/attach) crisp speaks, newest first, and how a
/// version is chosen: the client lists what it speaks in preference order, the first one we know wins.
/// </summary>
public static class RemoteCommandProtocol
{
    public const string V5 = "v5.channel.k8s.io";
    public const string V4 = "v4.channel.k8s.io";
    public const string V3 = "v3.channel.k8s.io";
    public const string V2 = "v2.channel.k8s.io";
    public const string V1 = "channel.k8s.io";
    public const string PortForward = "portforward.k8s.io";

    /// <summary>SPDY carries v4 at most: v5 only adds the close signal WebSocket lacks.</summary>
    public static readonly string[] Spdy = [V4, V3, V2, V1];
    public static readonly string[] WebSocket = [V5, V4, V3, V2, V1];

    /// <summary>Channel numbers, fixed by the protocol (also the stream order over SPDY).</summary>
    public const byte StdinChannel = 0, StdoutChannel = 1, StderrChannel = 2, ErrorChannel = 3, ResizeChannel = 4;

    public static string? Negotiate(IEnumerable<string> offered, IReadOnlyList<string> supported) =>
        offered.SelectMany(o => o.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            .FirstOrDefault(supported.Contains);

    /// <summary>v3 introduced the resize stream.</summary>
    public static bool SupportsResize(string version) => version is V5 or V4 or V3;

    /// <summary>v4 reports the outcome as a JSON Status (with the exit code); older versions as plain text.</summary>
    public static bool UsesStatusJson(string version) => version is V5 or V4;
}
