using System.Text.Json;

namespace Crisp.E2E.Fixtures;

/// <summary>Compact, field-ordered JSON for manifests and configs: identical inputs give identical digests.</summary>
internal static class OciJson
{
    public static byte[] Write(Action<Utf8JsonWriter> writeBody)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false }))
        {
            writer.WriteStartObject();
            writeBody(writer);
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    public static void WriteDescriptor(Utf8JsonWriter writer, OciDescriptor descriptor, IReadOnlyDictionary<string, string>? annotations = null)
    {
        writer.WriteStartObject();
        writer.WriteString("mediaType", descriptor.MediaType);
        writer.WriteString("digest", descriptor.Digest);
        writer.WriteNumber("size", descriptor.Size);
        if (descriptor.Platform is { } platform)
        {
            writer.WriteStartObject("platform");
            writer.WriteString("architecture", platform.Architecture);
            writer.WriteString("os", platform.Os);
            if (platform.Variant is not null)
            {
                writer.WriteString("variant", platform.Variant);
            }

            writer.WriteEndObject();
        }

        if (annotations is { Count: > 0 })
        {
            WriteStringMap(writer, "annotations", annotations);
        }

        writer.WriteEndObject();
    }

    public static void WriteStringMap(Utf8JsonWriter writer, string name, IReadOnlyDictionary<string, string> map)
    {
        writer.WriteStartObject(name);
        foreach (var (key, value) in map.OrderBy(pair => pair.Key, StringComparer.Ordinal))
        {
            writer.WriteString(key, value);
        }

        writer.WriteEndObject();
    }

    public static void WriteStringArray(Utf8JsonWriter writer, string name, IEnumerable<string> values)
    {
        writer.WriteStartArray(name);
        foreach (var value in values)
        {
            writer.WriteStringValue(value);
        }

        writer.WriteEndArray();
    }

    public static void WriteEmptyObjectSet(Utf8JsonWriter writer, string name, IEnumerable<string> keys)
    {
        writer.WriteStartObject(name);
        foreach (var key in keys)
        {
            writer.WriteStartObject(key);
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }
}
