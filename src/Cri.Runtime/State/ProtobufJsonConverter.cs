using System.Text.Json;
using System.Text.Json.Serialization;
using Google.Protobuf;

namespace Crisp.Runtime.State;

/// <summary>
/// Stores a CRI protobuf message inside the JSON records as base64 protobuf bytes: exact round trip of
/// every field the kubelet sent, including ones this version of crisp does not know yet.
/// Closed per message type on the record property (no MakeGenericType), so it works in the native AOT build.
/// </summary>
internal sealed class ProtobufJsonConverter<T> : JsonConverter<T> where T : IMessage<T>, new()
{
    private static readonly MessageParser<T> Parser = new(() => new T());

    public override T? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.Null ? default : Parser.ParseFrom(reader.GetBytesFromBase64());

    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) =>
        writer.WriteBase64StringValue(value.ToByteArray());
}
