using Crisp.Runtime.Streaming;

namespace Crisp.Server.Streaming;

/// <summary>The streams of one exec/attach as the runtime sees them, whatever protocol carries them.</summary>
public abstract class RemoteCommandTransport : IAsyncDisposable
{
    public required string ProtocolVersion { get; init; }
    public required StreamingIo Io { get; init; }
    /// <summary>Cancelled when the client is gone; the command runs under it.</summary>
    public CancellationToken SessionToken { get; init; }

    /// <summary>Ends the session: output streams closed (so the client has read everything), then the outcome written.</summary>
    public abstract Task FinishAsync(byte[] status, CancellationToken ct);

    public abstract ValueTask DisposeAsync();
}

/// <summary>Which streams the CRI request asked for; the client opens exactly these.</summary>
public sealed record RemoteCommandStreamSet(bool Stdin, bool Stdout, bool Stderr, bool Tty)
{
    /// <summary>With a TTY, stderr is merged into stdout by the terminal: there is no stderr stream.</summary>
    public bool HasStderr => Stderr && !Tty;
}
