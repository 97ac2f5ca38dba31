using Crisp.Cri.V1;
using Crisp.Runtime.Api;
using Crisp.Runtime.Cgroups;
using Crisp.Runtime.Containers;
using Crisp.Runtime.Sandboxes;
using Crisp.Runtime.State;
using Microsoft.Extensions.Logging;

namespace Crisp.Runtime.Stats;

/// <summary>
/// Container and pod stats, and the pod metrics the kubelet scrapes: CPU, memory, swap and pressure from the
/// cgroups, network from the pod's pinned network namespace, the writable layer from
/// <see cref="WritableLayerUsageCache"/>.
/// </summary>
public sealed partial class StatsService(
    IStateStore store,
    ICgroupManager cgroups,
    CpuRateTracker cpuRates,
    WritableLayerUsageCache writableLayers,
    ILogger<StatsService> logger)
{
    public async Task<ContainerStats> ContainerStatsAsync(ContainerStatsRequest request, CancellationToken cancellationToken)
    {
        var record = store.RequireContainer(request.ContainerId);
        return await CollectContainerStatsAsync(record, cancellationToken);
    }

    public async Task<IReadOnlyList<ContainerStats>> ListContainerStatsAsync(ContainerStatsFilter? filter, CancellationToken cancellationToken)
    {
        writableLayers.Retain(store.Containers.Select(c => c.Id).ToHashSet(StringComparer.Ordinal));
        var result = new List<ContainerStats>();
        foreach (var record in store.Containers.Where(c => c.Phase is ContainerPhase.Running or ContainerPhase.Created)
                     .Where(c => ContainerFilters.Matches(filter, c)).OrderBy(c => c.CreatedAtNanos))
            result.Add(await CollectContainerStatsAsync(record, cancellationToken));
        return result;
    }

    public async Task<PodSandboxStats> PodSandboxStatsAsync(PodSandboxStatsRequest request, CancellationToken cancellationToken)
    {
        var sandbox = store.RequireSandbox(request.PodSandboxId);
        return await CollectSandboxStatsAsync(sandbox, cancellationToken);
    }

    public async Task<IReadOnlyList<PodSandboxStats>> ListPodSandboxStatsAsync(PodSandboxStatsFilter? filter, CancellationToken cancellationToken)
    {
        var result = new List<PodSandboxStats>();
        foreach (var sandbox in store.Sandboxes.Where(s => s.Phase == SandboxPhase.Ready)
                     .Where(s => SandboxFilters.Matches(filter, s)).OrderBy(s => s.CreatedAtNanos))
            result.Add(await CollectSandboxStatsAsync(sandbox, cancellationToken));
        return result;
    }

    private async Task<ContainerStats> CollectContainerStatsAsync(ContainerRecord record, CancellationToken cancellationToken)
    {
        var stats = ContainerStatusBuilder.EmptyStats(record);
        var sample = await TryReadCgroupAsync(record.CgroupsPath, cancellationToken);
        if (sample is not null)
        {
            var timestamp = UnixNanos.FromDateTimeOffset(sample.Timestamp);
            stats.Cpu = CpuOf(record.Id, sample, timestamp);
            stats.Memory = MemoryOf(sample, timestamp);
            if (sample.Swap is { } swap) stats.Swap = SwapOf(swap, timestamp);
            if (sample.IoPressure is { } io) stats.Io = new IoUsage { Timestamp = timestamp, Psi = PsiOf(io) };
        }
        if (writableLayers.Get(record.Id, record.UpperPath) is { } layer)
        {
            stats.WritableLayer = new FilesystemUsage
            {
                Timestamp = layer.MeasuredAtNanos,
                FsId = new FilesystemIdentifier { Mountpoint = Path.GetDirectoryName(record.UpperPath)! },
                UsedBytes = new UInt64Value { Value = layer.Bytes },
                InodesUsed = new UInt64Value { Value = layer.Inodes },
            };
        }
        return stats;
    }

    private async Task<PodSandboxStats> CollectSandboxStatsAsync(SandboxRecord sandbox, CancellationToken cancellationToken)
    {
        var linux = new LinuxPodSandboxStats();
        var sample = await TryReadCgroupAsync(sandbox.CgroupParent, cancellationToken);
        if (sample is not null)
        {
            var timestamp = UnixNanos.FromDateTimeOffset(sample.Timestamp);
            linux.Cpu = CpuOf(sandbox.Id, sample, timestamp);
            linux.Memory = MemoryOf(sample, timestamp);
            linux.Process = new ProcessUsage { Timestamp = timestamp, ProcessCount = new UInt64Value { Value = sample.ProcessCount } };
            if (sample.IoPressure is { } io) linux.Io = new IoUsage { Timestamp = timestamp, Psi = PsiOf(io) };
        }
        foreach (var container in store.ContainersOf(sandbox.Id).Where(c => c.Phase == ContainerPhase.Running).OrderBy(c => c.CreatedAtNanos))
            linux.Containers.Add(await CollectContainerStatsAsync(container, cancellationToken));
        // A host-network pod has no network of its own: its traffic is the node's, which the kubelet reports for
        // the node (containerd reports none for such pods either).
        if (sandbox.NetworkNamespacePath is { } netns)
            linux.Network = await TryReadNetworkAsync(sandbox.Id, netns);
        return new PodSandboxStats { Attributes = SandboxStatusBuilder.Attributes(sandbox), Linux = linux };
    }

    private async Task<NetworkUsage?> TryReadNetworkAsync(string sandboxId, string networkNamespacePath)
    {
        try
        {
            return await PodNetworkUsage.ReadAsync(sandboxId, networkNamespacePath, Network.PodNetwork.InterfaceName);
        }
        catch (RuntimeException ex)
        {
            // The pod is being stopped and its namespace released: it simply has no network sample now.
            Log.NetworkStatsUnavailable(logger, sandboxId, ex.Message);
            return null;
        }
    }

    private CpuUsage CpuOf(string key, CgroupStats sample, long timestamp)
    {
        var cpu = new CpuUsage { Timestamp = timestamp, UsageCoreNanoSeconds = new UInt64Value { Value = sample.CpuUsageCoreNanoSeconds } };
        var rate = cpuRates.Record(key, timestamp, sample.CpuUsageCoreNanoSeconds);
        if (rate is not null) cpu.UsageNanoCores = new UInt64Value { Value = rate.Value };
        if (sample.CpuPressure is { } psi) cpu.Psi = PsiOf(psi);
        return cpu;
    }

    private static MemoryUsage MemoryOf(CgroupStats sample, long timestamp)
    {
        var memory = new MemoryUsage
        {
            Timestamp = timestamp,
            WorkingSetBytes = new UInt64Value { Value = sample.MemoryWorkingSetBytes },
            AvailableBytes = new UInt64Value { Value = sample.MemoryAvailableBytes },
            UsageBytes = new UInt64Value { Value = sample.MemoryUsageBytes },
            RssBytes = new UInt64Value { Value = sample.MemoryRssBytes },
            PageFaults = new UInt64Value { Value = sample.PageFaults },
            MajorPageFaults = new UInt64Value { Value = sample.MajorPageFaults },
        };
        if (sample.MemoryPressure is { } psi) memory.Psi = PsiOf(psi);
        return memory;
    }

    private static SwapUsage SwapOf(CgroupSwap swap, long timestamp) => new()
    {
        Timestamp = timestamp,
        SwapUsageBytes = new UInt64Value { Value = swap.UsageBytes },
        SwapAvailableBytes = new UInt64Value { Value = swap.AvailableBytes },
    };

    /// <summary>The kernel counts stall time in microseconds; the CRI's PsiData.Total is in nanoseconds.</summary>
    internal static PsiStats PsiOf(CgroupPressure pressure)
    {
        static PsiData? Data(PressureLine? line) => line is null ? null : new PsiData
        {
            Total = line.TotalMicroseconds * 1000,
            Avg10 = line.Avg10,
            Avg60 = line.Avg60,
            Avg300 = line.Avg300,
        };
        return new PsiStats { Some = Data(pressure.Some), Full = Data(pressure.Full) };
    }

    private async Task<CgroupStats?> TryReadCgroupAsync(string cgroupPath, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(cgroupPath)) return null;
        try
        {
            return await cgroups.ReadStatsAsync(cgroupPath, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A cgroup that vanished (container just exited and was deleted) simply has no sample.
            Log.StatsUnavailable(logger, cgroupPath, ex.Message);
            return null;
        }
    }

    public IReadOnlyList<MetricDescriptor> ListMetricDescriptors() => MetricDescriptors.All;

    public async Task<IReadOnlyList<PodSandboxMetrics>> ListPodSandboxMetricsAsync(CancellationToken cancellationToken)
    {
        var result = new List<PodSandboxMetrics>();
        foreach (var sandbox in store.Sandboxes.Where(s => s.Phase == SandboxPhase.Ready).OrderBy(s => s.CreatedAtNanos))
        {
            var podMetrics = new PodSandboxMetrics { PodSandboxId = sandbox.Id };
            foreach (var container in store.ContainersOf(sandbox.Id).Where(c => c.Phase == ContainerPhase.Running).OrderBy(c => c.CreatedAtNanos))
            {
                var metrics = new ContainerMetrics { ContainerId = container.Id };
                string[] labels = [container.Metadata.Name, sandbox.Metadata.Name, sandbox.Metadata.Namespace];
                var now = UnixNanos.Now();
                void Add(string name, ulong value)
                {
                    var metric = new Metric { Name = name, Timestamp = now, MetricType = MetricDescriptors.TypeOf(name), Value = new UInt64Value { Value = value } };
                    metric.LabelValues.Add(labels);
                    metrics.Metrics.Add(metric);
                }

                var sample = await TryReadCgroupAsync(container.CgroupsPath, cancellationToken);
                if (sample is not null)
                {
                    // Metric values are integers: whole seconds here (the exact nanoseconds are in ContainerStats).
                    Add(MetricDescriptors.CpuUsageSecondsTotal, sample.CpuUsageCoreNanoSeconds / 1_000_000_000);
                    Add(MetricDescriptors.MemoryUsageBytes, sample.MemoryUsageBytes);
                    Add(MetricDescriptors.MemoryWorkingSetBytes, sample.MemoryWorkingSetBytes);
                    Add(MetricDescriptors.MemoryRss, sample.MemoryRssBytes);
                    Add(MetricDescriptors.MemoryFailuresTotal, sample.PageFaults);
                    Add(MetricDescriptors.Processes, sample.ProcessCount);
                    if (sample.Swap is { } swap) Add(MetricDescriptors.MemorySwap, swap.UsageBytes);
                    if (sample.Io is { } io)
                    {
                        Add(MetricDescriptors.FsReadsBytesTotal, io.ReadBytes);
                        Add(MetricDescriptors.FsWritesBytesTotal, io.WriteBytes);
                    }
                }
                var resources = container.Resources;
                Add(MetricDescriptors.SpecMemoryLimitBytes, (ulong)Math.Max(0, resources.MemoryLimitInBytes));
                Add(MetricDescriptors.SpecCpuShares, (ulong)Math.Max(0, resources.CpuShares));
                Add(MetricDescriptors.SpecCpuQuota, (ulong)Math.Max(0, resources.CpuQuota));
                Add(MetricDescriptors.SpecCpuPeriod, (ulong)Math.Max(0, resources.CpuPeriod));
                if (writableLayers.Get(container.Id, container.UpperPath) is { } layer)
                {
                    Add(MetricDescriptors.FsUsageBytes, layer.Bytes);
                    Add(MetricDescriptors.FsInodesTotal, layer.Inodes);
                }
                Add(MetricDescriptors.LastSeen, (ulong)DateTimeOffset.UtcNow.ToUnixTimeSeconds());
                podMetrics.ContainerMetrics.Add(metrics);
            }
            result.Add(podMetrics);
        }
        return result;
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Debug, Message = "No cgroup stats for {CgroupPath}: {Reason}")]
        public static partial void StatsUnavailable(ILogger logger, string cgroupPath, string reason);

        [LoggerMessage(Level = LogLevel.Debug, Message = "No network stats for pod sandbox {SandboxId}: {Reason}")]
        public static partial void NetworkStatsUnavailable(ILogger logger, string sandboxId, string reason);
    }
}
