namespace Crisp.E2E.Fixtures;

/// <summary>Serialises an <see cref="ImageConfigSpec"/> and its layers into an OCI image config blob.</summary>
internal static class ImageConfigJson
{
    public static byte[] Create(ImageConfigSpec spec, IReadOnlyList<LayerDescriptor> layers) => OciJson.Write(writer =>
    {
        writer.WriteString("created", LayerBuilder.EntryTime.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ"));
        writer.WriteString("architecture", spec.Platform.Architecture);
        if (spec.Platform.Variant is not null)
        {
            writer.WriteString("variant", spec.Platform.Variant);
        }

        writer.WriteString("os", spec.Platform.Os);
        writer.WriteStartObject("config");
        if (spec.User is not null)
        {
            writer.WriteString("User", spec.User);
        }

        if (spec.ExposedPorts is { Count: > 0 })
        {
            OciJson.WriteEmptyObjectSet(writer, "ExposedPorts", spec.ExposedPorts);
        }

        OciJson.WriteStringArray(writer, "Env", spec.Env);
        if (spec.Entrypoint is not null)
        {
            OciJson.WriteStringArray(writer, "Entrypoint", spec.Entrypoint);
        }

        if (spec.Cmd is not null)
        {
            OciJson.WriteStringArray(writer, "Cmd", spec.Cmd);
        }

        if (spec.Volumes is { Count: > 0 })
        {
            OciJson.WriteEmptyObjectSet(writer, "Volumes", spec.Volumes);
        }

        if (spec.WorkingDir is not null)
        {
            writer.WriteString("WorkingDir", spec.WorkingDir);
        }

        if (spec.Labels is { Count: > 0 })
        {
            OciJson.WriteStringMap(writer, "Labels", spec.Labels);
        }

        if (spec.StopSignal is not null)
        {
            writer.WriteString("StopSignal", spec.StopSignal);
        }

        writer.WriteEndObject();
        writer.WriteStartObject("rootfs");
        writer.WriteString("type", "layers");
        OciJson.WriteStringArray(writer, "diff_ids", layers.Select(l => l.DiffId));
        writer.WriteEndObject();
        writer.WriteStartArray("history");
        foreach (var _ in layers)
        {
            writer.WriteStartObject();
            writer.WriteString("created", LayerBuilder.EntryTime.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ"));
            writer.WriteString("created_by", "crisp e2e OciImageBuilder");
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    });
}
