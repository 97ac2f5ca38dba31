using System.Text.Json.Serialization;

namespace Crisp.Runtime.Oci;

public sealed class OciResources
{
    [JsonPropertyName("devices")] public List<OciDeviceCgroup>? Devices { get; set; }
    [JsonPropertyName("memory")] public OciMemory? Memory { get; set; }
    [JsonPropertyName("cpu")] public OciCpu? Cpu { get; set; }
    [JsonPropertyName("pids")] public OciPids? Pids { get; set; }
    [JsonPropertyName("hugepageLimits")] public List<OciHugepageLimit>? HugepageLimits { get; set; }
    [JsonPropertyName("unified")] public Dictionary<string, string>? Unified { get; set; }
}

/// <summary>One device cgroup rule; a null major/minor means "any".</summary>
public sealed class OciDeviceCgroup
{
    [JsonPropertyName("allow")] public bool Allow { get; set; }
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("major")] public long? Major { get; set; }
    [JsonPropertyName("minor")] public long? Minor { get; set; }
    [JsonPropertyName("access")] public string? Access { get; set; }
}

public sealed class OciMemory
{
    [JsonPropertyName("limit")] public long? Limit { get; set; }
    [JsonPropertyName("reservation")] public long? Reservation { get; set; }
    [JsonPropertyName("swap")] public long? Swap { get; set; }
    [JsonPropertyName("swappiness")] public ulong? Swappiness { get; set; }
    [JsonPropertyName("disableOOMKiller")] public bool? DisableOomKiller { get; set; }
}

public sealed class OciCpu
{
    [JsonPropertyName("shares")] public ulong? Shares { get; set; }
    [JsonPropertyName("quota")] public long? Quota { get; set; }
    [JsonPropertyName("period")] public ulong? Period { get; set; }
    [JsonPropertyName("cpus")] public string? Cpus { get; set; }
    [JsonPropertyName("mems")] public string? Mems { get; set; }
}

public sealed class OciPids
{
    [JsonPropertyName("limit")] public long Limit { get; set; }
}

public sealed class OciHugepageLimit
{
    [JsonPropertyName("pageSize")] public string PageSize { get; set; } = "";
    [JsonPropertyName("limit")] public ulong Limit { get; set; }
}
