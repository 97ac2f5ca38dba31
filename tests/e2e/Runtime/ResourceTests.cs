using Crisp.Cri.V1;
using Crisp.E2E.Fixtures;
using Xunit;

namespace Crisp.E2E.Runtime;

/// <summary>Limits reach the cgroup (v1 or v2 file names, as this host has them): OOM kills are reported, CPU quota is applied and updatable.</summary>
[Collection(RuntimeCollection.Name)]
public sealed class ResourceTests(RuntimeFixture fixture)
{
    private PodHelper Pods => fixture.Pods;

    [Fact]
    public async Task Exceeding_the_memory_limit_is_reported_as_OOMKilled()
    {
        var (podId, pod) = await Pods.RunPodAsync("oom");
        // tail buffers a never-ending line of /dev/zero until the kernel kills it.
        var (status, _, _) = await Pods.RunToExitAsync(podId, pod, "hog", TestImageNames.Busybox, ["tail", "/dev/zero"], c => c.Linux = new LinuxContainerConfig
        {
            Resources = new LinuxContainerResources { MemoryLimitInBytes = 16 * 1024 * 1024 },
        });
        Assert.Equal("OOMKilled", status.Reason);
        Assert.Equal(137, status.ExitCode);
        Assert.Equal(16 * 1024 * 1024, status.Resources.Linux.MemoryLimitInBytes);
        await RemovePodAsync(podId);
    }

    [Fact]
    public async Task Cpu_quota_is_in_the_cgroup_and_can_be_updated()
    {
        var (podId, pod) = await Pods.RunPodAsync("cpu");
        var id = await Pods.StartAsync(podId, pod, "quota", TestImageNames.Busybox, ["sleep", "300"], c => c.Linux = new LinuxContainerConfig
        {
            Resources = new LinuxContainerResources { CpuPeriod = 100_000, CpuQuota = 50_000, CpuShares = 512, MemoryLimitInBytes = 64 << 20 },
        });
        var cgroupsPath = await CgroupsPathAsync(id);
        Assert.Equal(50_000, HostCgroups.CpuQuota(cgroupsPath));
        Assert.Equal(HostCgroups.ExpectedCpuShareValue(512), HostCgroups.CpuShareValue(cgroupsPath));

        await fixture.Runtime.UpdateContainerResourcesAsync(new UpdateContainerResourcesRequest
        {
            ContainerId = id,
            Linux = new LinuxContainerResources { CpuPeriod = 100_000, CpuQuota = 20_000, CpuShares = 256, MemoryLimitInBytes = 128 << 20 },
        });
        Assert.Equal(20_000, HostCgroups.CpuQuota(cgroupsPath));
        Assert.Equal(HostCgroups.ExpectedCpuShareValue(256), HostCgroups.CpuShareValue(cgroupsPath));
        Assert.Equal(128 << 20, HostCgroups.MemoryLimit(cgroupsPath));
        var status = await Pods.StatusAsync(id);
        Assert.Equal(20_000, status.Resources.Linux.CpuQuota);
        await RemovePodAsync(podId);
    }

    [Fact]
    public async Task Absurd_resources_are_refused_naming_the_field()
    {
        var (podId, pod) = await Pods.RunPodAsync("absurd");
        var config = await Pods.ContainerConfigAsync("absurd", TestImageNames.Busybox, ["true"], c => c.Linux = new LinuxContainerConfig
        {
            Resources = new LinuxContainerResources { CpuShares = 1_000_000_000 },
        });
        var ex = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => Pods.CreateAsync(podId, pod, config));
        Assert.Equal(Grpc.Core.StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains("cpu_shares", ex.Status.Detail);
        Assert.Empty((await fixture.Runtime.ListContainersAsync(new ListContainersRequest { Filter = new ContainerFilter { PodSandboxId = podId } })).Containers);
        await RemovePodAsync(podId);
    }

    /// <summary>The container's cgroups path as crisp reports it (relative to each hierarchy's root).</summary>
    private async Task<string> CgroupsPathAsync(string containerId)
    {
        var status = await fixture.Runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = containerId, Verbose = true });
        using var info = System.Text.Json.JsonDocument.Parse(status.Info["info"]);
        return info.RootElement.GetProperty("cgroupsPath").GetString()!;
    }

    private async Task RemovePodAsync(string podId)
    {
        await fixture.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId });
        await fixture.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId });
    }
}
