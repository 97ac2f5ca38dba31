using Crisp.Cri.V1;
using Crisp.Runtime.Api;
using Crisp.Runtime.Stats;
using Crisp.Runtime.Tests.Fakes;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Crisp.Runtime.Tests.Stats;

/// <summary>How a cgroup sample becomes the CRI's ContainerStats and PodSandboxStats (fake cgroups, no root).</summary>
public sealed class StatsServiceTests : IDisposable
{
    private readonly RuntimeHarness _runtime = new();
    private readonly WritableLayerUsageCache _layers = new(NullLogger<WritableLayerUsageCache>.Instance);
    private readonly StatsService _stats;

    public StatsServiceTests() =>
        _stats = new StatsService(_runtime.Store, _runtime.Cgroups, new CpuRateTracker(), _layers, NullLogger<StatsService>.Instance);

    public void Dispose()
    {
        _layers.Dispose();
        _runtime.Dispose();
    }

    private static CgroupStats Sample(ulong cpuNanos, DateTimeOffset at) => new(at, cpuNanos, 100, 90, 50, 10, 5, 1, 2, false)
    {
        Swap = new CgroupSwap(4096, 8192),
        Io = new CgroupIo(1, 2),
        CpuPressure = new CgroupPressure(new PressureLine(1.5, 2.5, 3.5, 1234), null),
        MemoryPressure = new CgroupPressure(new PressureLine(0, 0, 0, 7), new PressureLine(0, 0, 0, 3)),
        IoPressure = new CgroupPressure(new PressureLine(0, 0, 0, 11), new PressureLine(0, 0, 0, 5)),
    };

    [Fact]
    public async Task Container_stats_carry_exact_cpu_its_rate_swap_and_pressure()
    {
        var pod = await _runtime.RunPodAsync();
        var id = await _runtime.StartedContainerAsync(pod);
        var cgroup = _runtime.Store.FindContainer(id)!.CgroupsPath;
        var t0 = DateTimeOffset.UtcNow;
        _runtime.Cgroups.Stats[cgroup] = Sample(1_000_000_123, t0);

        var first = await _stats.ContainerStatsAsync(new ContainerStatsRequest { ContainerId = id }, CancellationToken.None);
        _runtime.Cgroups.Stats[cgroup] = Sample(1_500_000_123, t0.AddSeconds(1));
        var second = await _stats.ContainerStatsAsync(new ContainerStatsRequest { ContainerId = id }, CancellationToken.None);

        Assert.Equal(1_000_000_123UL, first.Cpu.UsageCoreNanoSeconds.Value);
        Assert.Null(first.Cpu.UsageNanoCores);
        // Half a core over the second between the two samples, from the counter's own timestamps.
        Assert.Equal(500_000_000UL, second.Cpu.UsageNanoCores.Value);
        Assert.Equal(4096UL, second.Swap.SwapUsageBytes.Value);
        Assert.Equal(8192UL, second.Swap.SwapAvailableBytes.Value);
        // PSI totals are microseconds in the kernel and nanoseconds in the CRI.
        Assert.Equal(1_234_000UL, second.Cpu.Psi.Some.Total);
        Assert.Equal(1.5, second.Cpu.Psi.Some.Avg10);
        Assert.Null(second.Cpu.Psi.Full);
        Assert.Equal(3_000UL, second.Memory.Psi.Full.Total);
        Assert.Equal(11_000UL, second.Io.Psi.Some.Total);
    }

    [Fact]
    public async Task Without_swap_io_or_pressure_the_fields_stay_unset()
    {
        var pod = await _runtime.RunPodAsync();
        var id = await _runtime.StartedContainerAsync(pod);
        _runtime.Cgroups.Stats[_runtime.Store.FindContainer(id)!.CgroupsPath] = new CgroupStats(DateTimeOffset.UtcNow, 1, 1, 1, 1, 1, 1, 1, 1, false);

        var stats = await _stats.ContainerStatsAsync(new ContainerStatsRequest { ContainerId = id }, CancellationToken.None);

        Assert.Null(stats.Swap);
        Assert.Null(stats.Io);
        Assert.Null(stats.Cpu.Psi);
        Assert.Null(stats.Memory.Psi);
    }

    [Fact]
    public async Task Pod_stats_carry_io_pressure_and_the_running_containers()
    {
        var pod = await _runtime.RunPodAsync();
        var id = await _runtime.StartedContainerAsync(pod);
        _runtime.Cgroups.Stats[_runtime.Store.FindSandbox(pod)!.CgroupParent] = Sample(42, DateTimeOffset.UtcNow);

        var stats = await _stats.PodSandboxStatsAsync(new PodSandboxStatsRequest { PodSandboxId = pod }, CancellationToken.None);

        Assert.Equal(42UL, stats.Linux.Cpu.UsageCoreNanoSeconds.Value);
        Assert.Equal(5_000UL, stats.Linux.Io.Psi.Full.Total);
        Assert.Equal(2UL, stats.Linux.Process.ProcessCount.Value);
        Assert.Equal(id, Assert.Single(stats.Linux.Containers).Attributes.Id);
    }
}
