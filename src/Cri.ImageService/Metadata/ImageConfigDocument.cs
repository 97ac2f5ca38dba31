using System.Text.Json;
using Crisp.ImageService.Api;
using Crisp.ImageService.References;

namespace Crisp.ImageService.Metadata;

/// <summary>The parts of an OCI/Docker image config blob crisp reads: the run config and the layer diff IDs.</summary>
public sealed record ImageConfigDocument(ImageConfig Config, IReadOnlyList<string> DiffIds)
{
    /// <summary>Parses a config blob; <paramref name="description"/> names it in errors.</summary>
    public static ImageConfigDocument Parse(string json, string description)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(json);
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Invalid(description, "is not a JSON object");
            JsonElement run = root.TryGetProperty("config", out JsonElement c) && c.ValueKind == JsonValueKind.Object ? c : default;

            var diffIds = new List<string>();
            if (root.TryGetProperty("rootfs", out JsonElement rootfs) && rootfs.ValueKind == JsonValueKind.Object
                && rootfs.TryGetProperty("diff_ids", out JsonElement ids) && ids.ValueKind == JsonValueKind.Array)
            {
                foreach (JsonElement id in ids.EnumerateArray())
                {
                    string? text = id.ValueKind == JsonValueKind.String ? id.GetString() : null;
                    string? problem = Digests.Validate(text);
                    if (problem is not null) throw Invalid(description, $"has an invalid rootfs.diff_ids entry \"{text}\": {problem}");
                    diffIds.Add(text!);
                }
            }
            else
            {
                throw Invalid(description, "has no rootfs.diff_ids");
            }

            var config = new ImageConfig(
                User: NonEmpty(String(run, "User")),
                Env: Strings(run, "Env"),
                Entrypoint: Strings(run, "Entrypoint"),
                Cmd: Strings(run, "Cmd"),
                WorkingDir: NonEmpty(String(run, "WorkingDir")),
                Labels: Labels(run),
                StopSignal: NonEmpty(String(run, "StopSignal")),
                Os: String(root, "os") ?? "",
                Architecture: String(root, "architecture") ?? "",
                RawJson: json);
            return new ImageConfigDocument(config, diffIds);
        }
        catch (JsonException ex)
        {
            throw Invalid(description, $"is not valid JSON ({ex.Message})");
        }
    }

    private static ImageServiceException Invalid(string description, string problem) =>
        new(ImageErrorKind.DataLoss, $"image config {description} {problem}");

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static string? String(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    private static IReadOnlyList<string> Strings(JsonElement element, string name)
    {
        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out JsonElement value)) return [];
        return value.ValueKind switch
        {
            JsonValueKind.Array => value.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String).Select(v => v.GetString()!).ToList(),
            // Some old builders wrote a single string where an array belongs.
            JsonValueKind.String => [value.GetString()!],
            _ => [],
        };
    }

    private static IReadOnlyDictionary<string, string> Labels(JsonElement run)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (run.ValueKind == JsonValueKind.Object && run.TryGetProperty("Labels", out JsonElement value) && value.ValueKind == JsonValueKind.Object)
        {
            foreach (JsonProperty label in value.EnumerateObject())
            {
                if (label.Value.ValueKind == JsonValueKind.String) labels[label.Name] = label.Value.GetString()!;
            }
        }
        return labels;
    }
}
