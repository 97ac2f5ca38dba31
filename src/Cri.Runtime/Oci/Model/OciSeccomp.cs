using System.Text.Json.Serialization;

namespace Crisp.Runtime.Oci;

public sealed class OciSeccomp
{
    [JsonPropertyName("defaultAction")] public string DefaultAction { get; set; } = "SCMP_ACT_ERRNO";
    [JsonPropertyName("defaultErrnoRet")] public uint? DefaultErrnoRet { get; set; }
    [JsonPropertyName("architectures")] public List<string>? Architectures { get; set; }
    [JsonPropertyName("flags")] public List<string>? Flags { get; set; }
    [JsonPropertyName("listenerPath")] public string? ListenerPath { get; set; }
    [JsonPropertyName("listenerMetadata")] public string? ListenerMetadata { get; set; }
    [JsonPropertyName("syscalls")] public List<OciSyscall>? Syscalls { get; set; }
}

public sealed class OciSyscall
{
    [JsonPropertyName("names")] public List<string> Names { get; set; } = [];
    [JsonPropertyName("action")] public string Action { get; set; } = "SCMP_ACT_ALLOW";
    [JsonPropertyName("errnoRet")] public uint? ErrnoRet { get; set; }
    [JsonPropertyName("args")] public List<OciSeccompArg>? Args { get; set; }
}

public sealed class OciSeccompArg
{
    [JsonPropertyName("index")] public uint Index { get; set; }
    [JsonPropertyName("value")] public ulong Value { get; set; }
    [JsonPropertyName("valueTwo")] public ulong? ValueTwo { get; set; }
    [JsonPropertyName("op")] public string Op { get; set; } = "SCMP_CMP_EQ";
}
