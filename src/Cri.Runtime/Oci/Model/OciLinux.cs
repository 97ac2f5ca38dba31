using System.Text.Json.Serialization;

namespace Crisp.Runtime.Oci;

public sealed class OciLinux
{
    [JsonPropertyName("uidMappings")] public List<OciIdMapping>? UidMappings { get; set; }
    [JsonPropertyName("gidMappings")] public List<OciIdMapping>? GidMappings { get; set; }
    [JsonPropertyName("sysctl")] public Dictionary<string, string>? Sysctl { get; set; }
    [JsonPropertyName("resources")] public OciResources? Resources { get; set; }
    [JsonPropertyName("cgroupsPath")] public string? CgroupsPath { get; set; }
    [JsonPropertyName("namespaces")] public List<OciNamespace>? Namespaces { get; set; }
    [JsonPropertyName("devices")] public List<OciDevice>? Devices { get; set; }
    [JsonPropertyName("seccomp")] public OciSeccomp? Seccomp { get; set; }
    [JsonPropertyName("rootfsPropagation")] public string? RootfsPropagation { get; set; }
    [JsonPropertyName("maskedPaths")] public List<string>? MaskedPaths { get; set; }
    [JsonPropertyName("readonlyPaths")] public List<string>? ReadonlyPaths { get; set; }
    [JsonPropertyName("mountLabel")] public string? MountLabel { get; set; }
}

public sealed class OciIdMapping
{
    [JsonPropertyName("containerID")] public uint ContainerId { get; set; }
    [JsonPropertyName("hostID")] public uint HostId { get; set; }
    [JsonPropertyName("size")] public uint Size { get; set; }
}

public sealed class OciNamespace
{
    public const string Pid = "pid", Network = "network", Mount = "mount", Ipc = "ipc", Uts = "uts", User = "user", Cgroup = "cgroup";

    [JsonPropertyName("type")] public string Type { get; set; } = "";
    [JsonPropertyName("path")] public string? Path { get; set; }
}

/// <summary>A device node runc creates inside the container.</summary>
public sealed class OciDevice
{
    [JsonPropertyName("type")] public string Type { get; set; } = "c";
    [JsonPropertyName("path")] public string Path { get; set; } = "";
    [JsonPropertyName("major")] public long Major { get; set; }
    [JsonPropertyName("minor")] public long Minor { get; set; }
    [JsonPropertyName("fileMode")] public uint? FileMode { get; set; }
    [JsonPropertyName("uid")] public uint? Uid { get; set; }
    [JsonPropertyName("gid")] public uint? Gid { get; set; }
}
