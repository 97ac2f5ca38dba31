namespace Crisp.Server.Hosting.Http2;

/// <summary>A header block that cannot be decoded; the connection is closed (COMPRESSION_ERROR territory).</summary>
public sealed class HpackException(string message) : Exception(message);
