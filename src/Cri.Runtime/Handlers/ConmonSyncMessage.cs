using System.Text.Json;

namespace Crisp.Runtime.Handlers;

/// <summary>
/// The one JSON line conmon (api-version 1) writes on its sync pipe after `create`:
/// {"data": &lt;container pid&gt;} or {"data": -1, "message": "&lt;runtime's stderr&gt;"}.
/// </summary>
internal sealed record ConmonSyncMessage(int Data, string? Message)
{
    public static ConmonSyncMessage? TryParse(string line)
    {
        if (string.IsNullOrWhiteSpace(line)) return null;
        try
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("data", out var data)) return null;
            var message = root.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
            return new ConmonSyncMessage(data.GetInt32(), message);
        }
        catch (JsonException) { return null; }
        catch (FormatException) { return null; }
    }

    /// <summary>runc prefixes its errors with logrus fields; keep just the msg="..." text when it is there.</summary>
    public static string CleanRuntimeError(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return "no error output";
        var messages = new List<string>();
        foreach (var rawLine in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var idx = rawLine.IndexOf("msg=\"", StringComparison.Ordinal);
            if (idx < 0) { messages.Add(rawLine); continue; }
            var body = rawLine[(idx + 5)..];
            var end = body.LastIndexOf('"');
            messages.Add((end >= 0 ? body[..end] : body).Replace("\\\"", "\""));
        }
        return string.Join("; ", messages);
    }
}
