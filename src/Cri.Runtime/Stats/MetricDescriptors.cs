using Crisp.Cri.V1;

namespace Crisp.Runtime.Stats;

/// <summary>
/// The cAdvisor-named metrics crisp serves through ListPodSandboxMetrics, so a kubelet running without
/// cAdvisor keeps its familiar /metrics/cadvisor series.
/// </summary>
public static class MetricDescriptors
{
    /// <summary>Label values of every metric, in this order: container name, pod name, pod namespace.</summary>
    public static readonly string[] LabelKeys = ["container", "pod", "namespace"];

    public const string CpuUsageSecondsTotal = "container_cpu_usage_seconds_total";
    public const string MemoryUsageBytes = "container_memory_usage_bytes";
    public const string MemoryWorkingSetBytes = "container_memory_working_set_bytes";
    public const string MemoryRss = "container_memory_rss";
    public const string MemoryFailuresTotal = "container_memory_failures_total";
    public const string MemorySwap = "container_memory_swap";
    public const string SpecMemoryLimitBytes = "container_spec_memory_limit_bytes";
    public const string SpecCpuShares = "container_spec_cpu_shares";
    public const string SpecCpuQuota = "container_spec_cpu_quota";
    public const string SpecCpuPeriod = "container_spec_cpu_period";
    public const string Processes = "container_processes";
    public const string FsUsageBytes = "container_fs_usage_bytes";
    public const string FsInodesTotal = "container_fs_inodes_total";
    public const string FsReadsBytesTotal = "container_fs_reads_bytes_total";
    public const string FsWritesBytesTotal = "container_fs_writes_bytes_total";
    public const string LastSeen = "container_last_seen";

    public static IReadOnlyList<MetricDescriptor> All { get; } =
    [
        Describe(CpuUsageSecondsTotal, "Cumulative cpu time consumed in seconds."),
        Describe(MemoryUsageBytes, "Current memory usage in bytes, including all memory regardless of when it was accessed."),
        Describe(MemoryWorkingSetBytes, "Current working set in bytes."),
        Describe(MemoryRss, "Size of RSS in bytes."),
        Describe(MemoryFailuresTotal, "Cumulative count of memory allocation failures (page faults)."),
        Describe(MemorySwap, "Container swap usage in bytes (where the host accounts swap)."),
        Describe(SpecMemoryLimitBytes, "Memory limit for the container in bytes (0 = unlimited)."),
        Describe(SpecCpuShares, "CPU share of the container."),
        Describe(SpecCpuQuota, "CPU quota of the container in microseconds per period."),
        Describe(SpecCpuPeriod, "CPU period of the container in microseconds."),
        Describe(Processes, "Number of processes running inside the container."),
        Describe(FsUsageBytes, "Number of bytes consumed by the container's writable layer."),
        Describe(FsInodesTotal, "Number of inodes used by the container's writable layer."),
        Describe(FsReadsBytesTotal, "Cumulative count of bytes read from block devices (where the host has blkio or io accounting)."),
        Describe(FsWritesBytesTotal, "Cumulative count of bytes written to block devices (where the host has blkio or io accounting)."),
        Describe(LastSeen, "Last time the container was seen by the runtime, in seconds since the epoch."),
    ];

    public static MetricType TypeOf(string name) =>
        name is CpuUsageSecondsTotal or MemoryFailuresTotal or FsReadsBytesTotal or FsWritesBytesTotal ? MetricType.Counter : MetricType.Gauge;

    private static MetricDescriptor Describe(string name, string help)
    {
        var descriptor = new MetricDescriptor { Name = name, Help = help };
        descriptor.LabelKeys.Add(LabelKeys);
        return descriptor;
    }
}
