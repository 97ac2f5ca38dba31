using System.Text.Json;

namespace Crisp.Runtime.Network;

/// <summary>The outcome of looking for a usable CNI network config.</summary>
public sealed record CniConfigState(bool Ready, string? ConfigFile, string? NetworkName, string Reason, string Message, IReadOnlyList<string> SkippedFiles);

/// <summary>
/// Finds the CNI config the runtime would use: the first valid .conflist/.conf/.json file in
/// lexical order, as libcni does. Invalid files are skipped with the reason kept for Status.
/// </summary>
public static class CniConfigProbe
{
    public const string NotReadyReason = "NetworkPluginNotReady";

    private static readonly string[] Extensions = [".conflist", ".conf", ".json"];

    public static CniConfigState Probe(string confDir)
    {
        var skipped = new List<string>();
        if (!Directory.Exists(confDir))
            return NotReady($"no CNI network config: directory {confDir} does not exist", skipped);

        var candidates = Directory.EnumerateFiles(confDir)
            .Where(f => Extensions.Contains(Path.GetExtension(f)))
            .Order(StringComparer.Ordinal);
        foreach (var file in candidates)
        {
            var (name, error) = Validate(file);
            if (error is null)
                return new CniConfigState(true, file, name, "", "", skipped);
            skipped.Add($"{file}: {error}");
        }
        var detail = skipped.Count == 0 ? "" : $" (skipped: {string.Join("; ", skipped)})";
        return NotReady($"no valid CNI network config found in {confDir}{detail}", skipped);
    }

    private static CniConfigState NotReady(string message, List<string> skipped) =>
        new(false, null, null, NotReadyReason, message, skipped);

    /// <summary>Returns the network name, or why the file cannot be used.</summary>
    private static (string? Name, string? Error) Validate(string file)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(file));
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return (null, "not a JSON object");
            if (!root.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String || name.GetString()!.Length == 0)
                return (null, "missing \"name\"");

            if (Path.GetExtension(file) == ".conflist")
            {
                if (!root.TryGetProperty("plugins", out var plugins) || plugins.ValueKind != JsonValueKind.Array || plugins.GetArrayLength() == 0)
                    return (null, "a .conflist needs a non-empty \"plugins\" array");
                foreach (var plugin in plugins.EnumerateArray())
                    if (plugin.ValueKind != JsonValueKind.Object || !plugin.TryGetProperty("type", out var t) || t.ValueKind != JsonValueKind.String)
                        return (null, "every plugin needs a \"type\"");
            }
            else if (!root.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            {
                return (null, "missing \"type\"");
            }
            return (name.GetString(), null);
        }
        catch (JsonException e)
        {
            return (null, $"invalid JSON: {e.Message}");
        }
        catch (IOException e)
        {
            return (null, $"unreadable: {e.Message}");
        }
    }
}
