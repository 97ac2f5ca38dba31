using System.Text.Json;
using Crisp.Cri.V1;
using Crisp.E2E.Fixtures;
using Xunit;

namespace Crisp.E2E.Runtime;

/// <summary>The pod cgroup is the kubelet's: crisp puts containers under cgroup_parent and imposes no pod-level limit.</summary>
[Collection(RuntimeCollection.Name)]
public sealed class PodCgroupTests(RuntimeFixture fixture)
{
    private const long PodMemoryLimit = 64L << 20;
    private const long LimitedContainerMemory = 32L << 20;
    private const long Allocation = 128L << 20;

    private PodHelper Pods => fixture.Pods;

    [Fact]
    public async Task Sandbox_resources_are_recorded_but_never_imposed_on_the_pod_cgroup()
    {
        // What a kubelet sends for a pod whose first container has a 32 MiB limit and whose second has none: the
        // sum of the limits that are set, which is not the pod's real bound.
        var (podId, pod) = await Pods.RunPodAsync("podlimits", p => p.Linux.Resources = new LinuxContainerResources { MemoryLimitInBytes = PodMemoryLimit });
        var parent = pod.Linux.CgroupParent;
        Assert.Equal(-1, HostCgroups.MemoryLimit(parent));

        var limited = await Pods.StartAsync(podId, pod, "limited", TestImageNames.Busybox, ["sleep", "300"], c => c.Linux = new LinuxContainerConfig
        {
            Resources = new LinuxContainerResources { MemoryLimitInBytes = LimitedContainerMemory },
        });
        var limitedCgroup = await CgroupsPathAsync(limited);
        Assert.StartsWith(parent + "/", limitedCgroup, StringComparison.Ordinal);
        Assert.Equal(LimitedContainerMemory, HostCgroups.MemoryLimit(limitedCgroup));

        // The unlimited container holds 128 MiB at once in a shell variable: twice the sandbox's stated limit.
        var (status, stdout, stderr) = await Pods.RunToExitAsync(podId, pod, "unlimited", TestImageNames.Busybox,
            ["sh", "-c", $"x=$(head -c {Allocation} /dev/zero | tr '\\0' a); echo ${{#x}}"]);
        Assert.True(status.ExitCode == 0, $"exit {status.ExitCode} ({status.Reason}): {stderr}");
        Assert.Equal(Allocation.ToString(System.Globalization.CultureInfo.InvariantCulture), stdout.Trim());
        Assert.Equal(-1, HostCgroups.MemoryLimit(parent));

        await fixture.Runtime.UpdatePodSandboxResourcesAsync(new UpdatePodSandboxResourcesRequest
        {
            PodSandboxId = podId,
            Resources = new LinuxContainerResources { MemoryLimitInBytes = 48L << 20 },
        });
        Assert.Equal(-1, HostCgroups.MemoryLimit(parent));
        var verbose = await fixture.Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = podId, Verbose = true });
        using (var info = JsonDocument.Parse(verbose.Info["info"]))
        {
            var recorded = info.RootElement.GetProperty("config").GetProperty("linux").GetProperty("resources").GetProperty("memoryLimitInBytes");
            Assert.Equal((48L << 20).ToString(System.Globalization.CultureInfo.InvariantCulture), recorded.GetString());
        }

        await fixture.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId });
        await fixture.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId });
        // crisp removed its containers' cgroups and left the kubelet's pod cgroup for the kubelet.
        Assert.False(CgroupCleanup.ExistsAnywhere(limitedCgroup), $"cgroup {limitedCgroup} outlived its container");
        Assert.True(Directory.Exists(HostCgroups.DirectoryOf(parent, "memory")), "crisp removed the kubelet's pod cgroup");
        CgroupCleanup.RemoveTree(parent);
    }

    private async Task<string> CgroupsPathAsync(string containerId)
    {
        var status = await fixture.Runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = containerId, Verbose = true });
        using var info = JsonDocument.Parse(status.Info["info"]);
        return info.RootElement.GetProperty("cgroupsPath").GetString()!;
    }
}
