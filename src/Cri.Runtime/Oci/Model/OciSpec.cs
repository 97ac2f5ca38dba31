using System.Text.Json;
using System.Text.Json.Serialization;

namespace Crisp.Runtime.Oci;

/// <summary>
/// The OCI runtime-spec config.json a bundle carries. Only the Linux fields crisp writes are modelled;
/// nulls are omitted so runc sees exactly what was decided.
/// </summary>
public sealed class OciSpec
{
    public const string Version = "1.1.0";

    [JsonPropertyName("ociVersion")] public string OciVersion { get; set; } = Version;
    [JsonPropertyName("process")] public OciProcess? Process { get; set; }
    [JsonPropertyName("root")] public OciRoot? Root { get; set; }
    [JsonPropertyName("hostname")] public string? Hostname { get; set; }
    [JsonPropertyName("mounts")] public List<OciMount>? Mounts { get; set; }
    [JsonPropertyName("hooks")] public OciHooks? Hooks { get; set; }
    [JsonPropertyName("annotations")] public Dictionary<string, string>? Annotations { get; set; }
    [JsonPropertyName("linux")] public OciLinux? Linux { get; set; }

    public string ToJson() => JsonSerializer.Serialize(this, OciJsonContext.Default.OciSpec);

    public string ToIndentedJson() => JsonSerializer.Serialize(this, OciJsonContext.Indented.OciSpec);

    public static OciSpec FromJson(string json) =>
        JsonSerializer.Deserialize(json, OciJsonContext.Default.OciSpec)
        ?? throw new JsonException("OCI spec JSON is null");
}

public sealed class OciRoot
{
    [JsonPropertyName("path")] public string Path { get; set; } = "rootfs";
    [JsonPropertyName("readonly")] public bool? Readonly { get; set; }
}

public sealed class OciMount
{
    [JsonPropertyName("destination")] public string Destination { get; set; } = "";
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("source")] public string? Source { get; set; }
    [JsonPropertyName("options")] public List<string>? Options { get; set; }
}

/// <summary>OCI lifecycle hooks (config.json "hooks"); only CDI specs add them.</summary>
public sealed class OciHooks
{
    [JsonPropertyName("prestart")] public List<OciHook>? Prestart { get; set; }
    [JsonPropertyName("createRuntime")] public List<OciHook>? CreateRuntime { get; set; }
    [JsonPropertyName("createContainer")] public List<OciHook>? CreateContainer { get; set; }
    [JsonPropertyName("startContainer")] public List<OciHook>? StartContainer { get; set; }
    [JsonPropertyName("poststart")] public List<OciHook>? Poststart { get; set; }
    [JsonPropertyName("poststop")] public List<OciHook>? Poststop { get; set; }
}

public sealed class OciHook
{
    [JsonPropertyName("path")] public string Path { get; set; } = "";
    [JsonPropertyName("args")] public List<string>? Args { get; set; }
    [JsonPropertyName("env")] public List<string>? Env { get; set; }
    [JsonPropertyName("timeout")] public int? Timeout { get; set; }
}
