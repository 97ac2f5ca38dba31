using Crisp.Cri.V1;
using Crisp.Runtime.Api;
using Crisp.Runtime.Cgroups;
using Crisp.Runtime.Containers;
using Crisp.Runtime.Host;
using Crisp.Runtime.Sandboxes;
using Crisp.Runtime.State;
using Microsoft.Extensions.Logging;

namespace Crisp.Runtime.Stats;

/// <summary>Container and pod stats, and the pod metrics the kubelet scrapes, sampled from the cgroups.</summary>
public sealed partial class StatsService(IStateStore store, ICgroupManager cgroups, CpuRateTracker cpuRates, ILogger<StatsService> logger)
{
    public async Task<ContainerStats> ContainerStatsAsync(ContainerStatsRequest request, CancellationToken cancellationToken)
    {
        var record = store.RequireContainer(request.ContainerId);
        return await CollectContainerStatsAsync(record, cancellationToken);
    }

    public async Task<IReadOnlyList<ContainerStats>> ListContainerStatsAsync(ContainerStatsFilter? filter, CancellationToken cancellationToken)
    {
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
        }
        var (bytes, inodes) = WritableLayerUsage.Measure(record.UpperPath);
        stats.WritableLayer = new FilesystemUsage
        {
            Timestamp = UnixNanos.Now(),
            FsId = new FilesystemIdentifier { Mountpoint = Path.GetDirectoryName(record.UpperPath)! },
            UsedBytes = new UInt64Value { Value = bytes },
            InodesUsed = new UInt64Value { Value = inodes },
        };
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
        }
        var running = store.ContainersOf(sandbox.Id).Where(c => c.Phase == ContainerPhase.Running).OrderBy(c => c.CreatedAtNanos).ToList();
        foreach (var container in running)
            linux.Containers.Add(await CollectContainerStatsAsync(container, cancellationToken));
        // Any running container's init is inside the pod's network namespace; a host-network pod's counters are the node's.
        // (Its pid is trusted only while its start time matches: pids wrap quickly.)
        if (!sandbox.HostNetwork && running.FirstOrDefault(c => c.Pid > 0 && c.PidStartTime != 0 && new ProcessIdentity(c.Pid, c.PidStartTime).IsAlive()) is { } inPod)
            linux.Network = PodNetworkUsage.Read(inPod.Pid, Network.PodNetwork.InterfaceName, UnixNanos.Now());
        return new PodSandboxStats { Attributes = SandboxStatusBuilder.Attributes(sandbox), Linux = linux };
    }

    private CpuUsage CpuOf(string key, CgroupStats sample, long timestamp)
    {
        var cpu = new CpuUsage { Timestamp = timestamp, UsageCoreNanoSeconds = new UInt64Value { Value = sample.CpuUsageCoreNanoSeconds } };
        var rate = cpuRates.Record(key, timestamp, sample.CpuUsageCoreNanoSeconds);
        if (rate is not null) cpu.UsageNanoCores = new UInt64Value { Value = rate.Value };
        return cpu;
    }

    private static MemoryUsage MemoryOf(CgroupStats sample, long timestamp) => new()
    {
        Timestamp = timestamp,
        WorkingSetBytes = new UInt64Value { Value = sample.MemoryWorkingSetBytes },
        AvailableBytes = new UInt64Value { Value = sample.MemoryAvailableBytes },
        UsageBytes = new UInt64Value { Value = sample.MemoryUsageBytes },
        RssBytes = new UInt64Value { Value = sample.MemoryRssBytes },
        PageFaults = new UInt64Value { Value = sample.PageFaults },
        MajorPageFaults = new UInt64Value { Value = sample.MajorPageFaults },
    };

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
                    Add(MetricDescriptors.CpuUsageSecondsTotal, sample.CpuUsageCoreNanoSeconds / 1_000_000_000);
                    Add(MetricDescriptors.MemoryUsageBytes, sample.MemoryUsageBytes);
                    Add(MetricDescriptors.MemoryWorkingSetBytes, sample.MemoryWorkingSetBytes);
                    Add(MetricDescriptors.MemoryRss, sample.MemoryRssBytes);
                    Add(MetricDescriptors.MemoryFailuresTotal, sample.PageFaults);
                    Add(MetricDescriptors.Processes, sample.ProcessCount);
                }
                var resources = container.Resources;
                Add(MetricDescriptors.SpecMemoryLimitBytes, (ulong)Math.Max(0, resources.MemoryLimitInBytes));
                Add(MetricDescriptors.SpecCpuShares, (ulong)Math.Max(0, resources.CpuShares));
                Add(MetricDescriptors.SpecCpuQuota, (ulong)Math.Max(0, resources.CpuQuota));
                Add(MetricDescriptors.SpecCpuPeriod, (ulong)Math.Max(0, resources.CpuPeriod));
                var (bytes, inodes) = WritableLayerUsage.Measure(container.UpperPath);
                Add(MetricDescriptors.FsUsageBytes, bytes);
                Add(MetricDescriptors.FsInodesTotal, inodes);
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
    }
}
