namespace Crisp.Runtime.Streaming;

/// <summary>A terminal's size as the streaming client reports it (columns x rows).</summary>
public readonly record struct TerminalSize(ushort Width, ushort Height);
