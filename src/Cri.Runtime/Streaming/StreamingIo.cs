using System.Threading.Channels;

namespace Crisp.Runtime.Streaming;

/// <summary>
/// The client side of one exec or attach session, as the streaming server hands it over. The runtime reads and
/// writes these streams but never disposes them: the server owns and closes them once the call returns.
/// </summary>
public sealed class StreamingIo
{
    /// <summary>null: no stdin. A read returning 0 means the client closed stdin.</summary>
    public Stream? Stdin { get; init; }

    /// <summary>With a tty, everything the process prints arrives here.</summary>
    public Stream? Stdout { get; init; }

    /// <summary>Always null with a tty (a terminal has a single output).</summary>
    public Stream? Stderr { get; init; }

    /// <summary>Terminal resizes from the client; tty sessions only.</summary>
    public ChannelReader<TerminalSize>? Resize { get; init; }
}
