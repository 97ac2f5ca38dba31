using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using Version = System.Version;
using YamlDotNet.RepresentationModel;

namespace Crisp.Runtime.Cdi;

/// <summary>
/// Reads one CDI spec file (".json" or ".yaml"/".yml") and checks what the CDI spec requires of it: a supported
/// cdiVersion, a valid kind, device names, absolute paths and known hook names. Any problem is a
/// <see cref="CdiSpecException"/> naming the file.
/// </summary>
public static partial class CdiSpecParser
{
    /// <summary>The spec versions crisp reads (the 0.x series up to the current 0.8.0 schema).</summary>
    public static readonly IReadOnlyList<string> SupportedVersions = ["0.3.0", "0.4.0", "0.5.0", "0.6.0", "0.7.0", "0.8.0"];

    private static readonly HashSet<string> HookNames = new(StringComparer.Ordinal)
    {
        "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
    };

    public static CdiSpecDocument Parse(string path, string text)
    {
        CdiSpecDocument? document;
        try
        {
            var json = IsYaml(path) ? YamlToJson(text) : text;
            document = JsonSerializer.Deserialize(json, CdiJsonContext.Default.CdiSpecDocument);
        }
        catch (Exception ex) when (ex is JsonException or YamlException or FormatException or InvalidOperationException)
        {
            throw new CdiSpecException(path, $"not a valid CDI spec: {ex.Message}");
        }
        if (document is null) throw new CdiSpecException(path, "the file is empty or null");
        Validate(path, document);
        return document;
    }

    public static bool IsSpecFileName(string path) =>
        path.EndsWith(".json", StringComparison.Ordinal) || IsYaml(path);

    private static bool IsYaml(string path) =>
        path.EndsWith(".yaml", StringComparison.Ordinal) || path.EndsWith(".yml", StringComparison.Ordinal);

    private static void Validate(string path, CdiSpecDocument spec)
    {
        if (!SupportedVersions.Contains(spec.CdiVersion))
            throw new CdiSpecException(path, $"cdiVersion \"{spec.CdiVersion}\" is not supported (supported: {string.Join(", ", SupportedVersions)})");
        var version = Version.Parse(spec.CdiVersion);
        var kind = KindPattern().Match(spec.Kind);
        if (!kind.Success || kind.Groups["vendor"].Length > 253 || kind.Groups["class"].Length > 63)
            throw new CdiSpecException(path, $"kind \"{spec.Kind}\" is not vendor.com/class");
        if (version < new Version(0, 6, 0) && kind.Groups["class"].Value.Contains('.'))
            throw new CdiSpecException(path, $"kind \"{spec.Kind}\": dots in the class need cdiVersion 0.6.0");
        RequireMinimum(path, version, new Version(0, 6, 0), spec.Annotations is not null || spec.Devices.Any(d => d.Annotations is not null), "annotations");
        if (spec.Devices.Count == 0) throw new CdiSpecException(path, "devices: at least one device is required");

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var device in spec.Devices)
        {
            if (!DeviceNamePattern().IsMatch(device.Name) || (version < new Version(0, 5, 0) && char.IsAsciiDigit(device.Name[0])))
                throw new CdiSpecException(path, $"device name \"{device.Name}\" is invalid");
            if (!names.Add(device.Name)) throw new CdiSpecException(path, $"device \"{device.Name}\" is defined twice");
            ValidateEdits(path, version, device.ContainerEdits, $"device \"{device.Name}\"");
        }
        ValidateEdits(path, version, spec.ContainerEdits, "containerEdits");
    }

    private static void ValidateEdits(string path, Version version, CdiContainerEdits? edits, string where)
    {
        if (edits is null) return;
        foreach (var env in edits.Env ?? [])
            if (env.IndexOf('=') <= 0) throw new CdiSpecException(path, $"{where}: env \"{env}\" is not NAME=value");
        foreach (var node in edits.DeviceNodes ?? [])
        {
            RequireAbsolute(path, node.Path, $"{where}: device node path");
            if (node.HostPath is not null) RequireAbsolute(path, node.HostPath, $"{where}: device node hostPath");
            RequireMinimum(path, version, new Version(0, 5, 0), node.HostPath is not null, "deviceNodes[].hostPath");
            if (node.Type is not (null or "" or "b" or "c" or "u" or "p"))
                throw new CdiSpecException(path, $"{where}: device node {node.Path} has type \"{node.Type}\" (b, c, u or p)");
            if (node.Permissions is { } permissions && permissions != "none" && permissions.Any(c => c is not ('r' or 'w' or 'm')))
                throw new CdiSpecException(path, $"{where}: device node {node.Path} has permissions \"{permissions}\" (r, w, m or none)");
        }
        foreach (var mount in edits.Mounts ?? [])
        {
            if (string.IsNullOrEmpty(mount.HostPath)) throw new CdiSpecException(path, $"{where}: a mount has no hostPath");
            RequireAbsolute(path, mount.ContainerPath, $"{where}: mount containerPath");
            RequireMinimum(path, version, new Version(0, 4, 0), mount.Type is not null, "mounts[].type");
        }
        foreach (var hook in edits.Hooks ?? [])
        {
            if (!HookNames.Contains(hook.HookName)) throw new CdiSpecException(path, $"{where}: unknown hookName \"{hook.HookName}\"");
            RequireAbsolute(path, hook.Path, $"{where}: hook path");
            if (hook.Timeout is <= 0) throw new CdiSpecException(path, $"{where}: hook {hook.Path} timeout must be greater than zero");
        }
        RequireMinimum(path, version, new Version(0, 7, 0), edits.AdditionalGids is not null || edits.IntelRdt is not null, "additionalGids/intelRdt");
    }

    private static void RequireMinimum(string path, Version version, Version minimum, bool used, string field)
    {
        if (used && version < minimum)
            throw new CdiSpecException(path, $"{field} needs cdiVersion {minimum.ToString(3)} (the file says {version.ToString(3)})");
    }

    private static void RequireAbsolute(string path, string value, string what)
    {
        if (string.IsNullOrEmpty(value) || !value.StartsWith('/') || value.Contains('\0'))
            throw new CdiSpecException(path, $"{what} \"{value}\" is not an absolute path");
    }

    /// <summary>
    /// YAML to JSON text through YamlDotNet's node tree (no reflection-based object mapping). A plain scalar that
    /// reads as an integer, boolean or null becomes one; everything else is a string (strings typed fields
    /// accept numbers via <see cref="CdiScalarStringConverter"/>).
    /// </summary>
    private static string YamlToJson(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        if (stream.Documents.Count != 1) throw new FormatException($"expected one YAML document, found {stream.Documents.Count}");
        return (ToJson(stream.Documents[0].RootNode, depth: 0) ?? "null").ToJsonString();
    }

    private const int MaxYamlDepth = 32;

    private static JsonNode? ToJson(YamlNode node, int depth)
    {
        if (depth > MaxYamlDepth) throw new FormatException($"YAML nested deeper than {MaxYamlDepth} levels");
        switch (node)
        {
            case YamlMappingNode mapping:
                var obj = new JsonObject();
                foreach (var (key, value) in mapping.Children)
                {
                    if (key is not YamlScalarNode { Value: { } name }) throw new FormatException($"mapping key at {key.Start} is not a scalar");
                    if (obj.ContainsKey(name)) throw new FormatException($"duplicate key \"{name}\" at {key.Start}");
                    obj[name] = ToJson(value, depth + 1);
                }
                return obj;
            case YamlSequenceNode sequence:
                var array = new JsonArray();
                foreach (var item in sequence.Children) array.Add(ToJson(item, depth + 1));
                return array;
            case YamlScalarNode scalar:
                var textValue = scalar.Value ?? "";
                if (scalar.Style != ScalarStyle.Plain) return JsonValue.Create(textValue);
                if (textValue is "" or "~" or "null" or "Null" or "NULL") return null;
                if (textValue is "true" or "True" or "TRUE") return JsonValue.Create(true);
                if (textValue is "false" or "False" or "FALSE") return JsonValue.Create(false);
                // YAML 1.1 octal (0644), as the Go YAML readers vendors test their files with understand it.
                if (textValue.Length > 1 && textValue[0] == '0' && textValue.All(c => c is >= '0' and <= '7'))
                    return JsonValue.Create(Convert.ToInt64(textValue, 8));
                if (long.TryParse(textValue, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer)) return JsonValue.Create(integer);
                if (textValue.StartsWith("0o", StringComparison.Ordinal)
                    && long.TryParse(textValue.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out _))
                    return JsonValue.Create(Convert.ToInt64(textValue[2..], 8));
                return JsonValue.Create(textValue);
            default:
                throw new FormatException($"unsupported YAML node at {node.Start} (aliases are not read)");
        }
    }

    // vendor: DNS subdomain; class: alphanumeric at both ends, '-', '_' and '.' between.
    [GeneratedRegex(@"^(?<vendor>[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*)/(?<class>[a-zA-Z0-9]([a-zA-Z0-9_.-]*[a-zA-Z0-9])?)$")]
    internal static partial Regex KindPattern();

    [GeneratedRegex(@"^[a-zA-Z0-9]([a-zA-Z0-9_.:-]*[a-zA-Z0-9])?$")]
    internal static partial Regex DeviceNamePattern();
}

/// <summary>A CDI spec file that cannot be used, and why.</summary>
public sealed class CdiSpecException(string path, string reason) : Exception($"CDI spec {path}: {reason}")
{
    public string Path { get; } = path;
    public string Reason { get; } = reason;
}
