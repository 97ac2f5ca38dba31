using System.Text.Json.Serialization;

namespace Crisp.Runtime.Cdi;

/// <summary>
/// A CDI spec file as written by a device vendor (CDI spec versions 0.3.0 to 0.8.0). Unknown fields are refused
/// when parsing, as the reference implementation does, so a typo never silently drops an edit.
/// </summary>
public sealed class CdiSpecDocument
{
    [JsonPropertyName("cdiVersion")] public string CdiVersion { get; set; } = "";
    [JsonPropertyName("kind")] public string Kind { get; set; } = "";
    [JsonPropertyName("annotations")] public Dictionary<string, string>? Annotations { get; set; }
    [JsonPropertyName("devices")] public List<CdiDeviceDocument> Devices { get; set; } = [];
    [JsonPropertyName("containerEdits")] public CdiContainerEdits? ContainerEdits { get; set; }
}

public sealed class CdiDeviceDocument
{
    [JsonPropertyName("name")] public string Name { get; set; } = "";
    [JsonPropertyName("annotations")] public Dictionary<string, string>? Annotations { get; set; }
    [JsonPropertyName("containerEdits")] public CdiContainerEdits? ContainerEdits { get; set; }
}

public sealed class CdiContainerEdits
{
    [JsonPropertyName("env")] public List<string>? Env { get; set; }
    [JsonPropertyName("deviceNodes")] public List<CdiDeviceNode>? DeviceNodes { get; set; }
    [JsonPropertyName("mounts")] public List<CdiMount>? Mounts { get; set; }
    [JsonPropertyName("hooks")] public List<CdiHook>? Hooks { get; set; }
    [JsonPropertyName("additionalGids")] public List<uint>? AdditionalGids { get; set; }
    [JsonPropertyName("intelRdt")] public CdiIntelRdt? IntelRdt { get; set; }
}

public sealed class CdiDeviceNode
{
    [JsonPropertyName("path")] public string Path { get; set; } = "";
    [JsonPropertyName("hostPath")] public string? HostPath { get; set; }
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("major")] public long? Major { get; set; }
    [JsonPropertyName("minor")] public long? Minor { get; set; }
    [JsonPropertyName("fileMode")] public uint? FileMode { get; set; }
    [JsonPropertyName("permissions")] public string? Permissions { get; set; }
    [JsonPropertyName("uid")] public uint? Uid { get; set; }
    [JsonPropertyName("gid")] public uint? Gid { get; set; }
}

public sealed class CdiMount
{
    [JsonPropertyName("hostPath")] public string HostPath { get; set; } = "";
    [JsonPropertyName("containerPath")] public string ContainerPath { get; set; } = "";
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("options")] public List<string>? Options { get; set; }
}

public sealed class CdiHook
{
    [JsonPropertyName("hookName")] public string HookName { get; set; } = "";
    [JsonPropertyName("path")] public string Path { get; set; } = "";
    [JsonPropertyName("args")] public List<string>? Args { get; set; }
    [JsonPropertyName("env")] public List<string>? Env { get; set; }
    [JsonPropertyName("timeout")] public int? Timeout { get; set; }
}

/// <summary>Parsed so a 0.7.0 spec that carries it loads; crisp refuses to apply it (no resctrl support).</summary>
public sealed class CdiIntelRdt
{
    [JsonPropertyName("closID")] public string? ClosId { get; set; }
    [JsonPropertyName("l3CacheSchema")] public string? L3CacheSchema { get; set; }
    [JsonPropertyName("memBwSchema")] public string? MemBwSchema { get; set; }
    [JsonPropertyName("enableCMT")] public bool? EnableCmt { get; set; }
    [JsonPropertyName("enableMBM")] public bool? EnableMbm { get; set; }
}

/// <summary>Reflection-free (trimming and native AOT safe) reading of CDI specs, JSON or YAML turned into JSON.</summary>
[JsonSourceGenerationOptions(
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    NumberHandling = JsonNumberHandling.AllowReadingFromString,
    Converters = [typeof(CdiScalarStringConverter)])]
[JsonSerializable(typeof(CdiSpecDocument))]
internal sealed partial class CdiJsonContext : JsonSerializerContext;
