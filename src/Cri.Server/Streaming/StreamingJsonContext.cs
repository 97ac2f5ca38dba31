using System.Text.Json.Serialization;

namespace Crisp.Server.Streaming;

/// <summary>One message of the resize channel as client-go's json.Encoder writes it.</summary>
internal sealed class WireSize
{
    public uint Width { get; set; }
    public uint Height { get; set; }
}

/// <summary>Source-generated JSON for what the streaming server reads from clients.</summary>
[JsonSerializable(typeof(WireSize))]
internal sealed partial class StreamingJsonContext : JsonSerializerContext;
