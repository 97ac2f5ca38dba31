using System.Text.Json;
using System.Text.Json.Nodes;

namespace Crisp.Runtime.Network;

/// <summary>
/// One CNI network as a plugin chain (a .conf file is a chain of one), parsed the way libcni reads it. The
/// plugins are kept as raw JSON objects: each plugin owns its keys, crisp only adds name, cniVersion,
/// prevResult and runtimeConfig when it calls them.
/// </summary>
public sealed class CniNetworkConfig
{
    public required string Name { get; init; }
    public required string CniVersion { get; init; }
    public required IReadOnlyList<JsonObject> Plugins { get; init; }
    /// <summary>The file it was read from (for logs and Status); empty for a config restored from the cache.</summary>
    public string SourceFile { get; init; } = "";

    public IEnumerable<string> PluginTypes => Plugins.Select(p => p["type"]!.GetValue<string>());

    /// <summary>Parses a .conflist (chain) or .conf/.json (single plugin); throws <see cref="FormatException"/> saying why not.</summary>
    public static CniNetworkConfig Parse(ReadOnlySpan<byte> json, bool isList, string sourceFile = "")
    {
        JsonNode? node;
        try { node = JsonNode.Parse(json); }
        catch (JsonException e) { throw new FormatException($"invalid JSON: {e.Message}", e); }
        if (node is not JsonObject root) throw new FormatException("not a JSON object");

        var name = StringOf(root, "name") ?? throw new FormatException("missing \"name\"");
        // libcni treats a missing cniVersion as the oldest one.
        var version = StringOf(root, "cniVersion") ?? "0.1.0";
        List<JsonObject> plugins;
        if (isList)
        {
            if (root["plugins"] is not JsonArray array || array.Count == 0)
                throw new FormatException("a .conflist needs a non-empty \"plugins\" array");
            plugins = [];
            foreach (var item in array)
            {
                if (item is not JsonObject plugin || StringOf(plugin, "type") is not { } type)
                    throw new FormatException("every plugin needs a \"type\"");
                ValidateType(type);
                plugins.Add((JsonObject)plugin.DeepClone());
            }
        }
        else
        {
            var type = StringOf(root, "type") ?? throw new FormatException("missing \"type\"");
            ValidateType(type);
            plugins = [(JsonObject)root.DeepClone()];
        }
        return new CniNetworkConfig { Name = name, CniVersion = version, Plugins = plugins, SourceFile = sourceFile };
    }

    public static CniNetworkConfig Load(string file) =>
        Parse(File.ReadAllBytes(file), isList: Path.GetExtension(file) == ".conflist", file);

    /// <summary>The chain as a .conflist document (what the result cache stores so DEL sees the ADD-time config).</summary>
    public JsonObject ToConflist()
    {
        var plugins = new JsonArray();
        foreach (var p in Plugins) plugins.Add(p.DeepClone());
        return new JsonObject { ["cniVersion"] = CniVersion, ["name"] = Name, ["plugins"] = plugins };
    }

    public static CniNetworkConfig FromConflist(JsonObject conflist) =>
        Parse(JsonSerializer.SerializeToUtf8Bytes(conflist, CniJsonContext.Default.JsonObject), isList: true);

    private static void ValidateType(string type)
    {
        if (CniPluginType.Problem(type) is { } problem)
            throw new FormatException($"plugin type \"{type.Replace("\0", "\\0", StringComparison.Ordinal)}\" is not a plain binary name: it {problem}");
    }

    private static string? StringOf(JsonObject o, string key) =>
        o[key] is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0 ? s : null;
}
