using Crisp.Cri.V1;
using Crisp.E2E.Fixtures;
using Xunit;

namespace Crisp.E2E.Runtime;

/// <summary>CRI: "If the container is running, the container must be forcibly removed" (critest checks it).</summary>
[Collection(RuntimeCollection.Name)]
public sealed class RemoveRunningContainerTests(RuntimeFixture fixture)
{
    [Fact]
    public async Task Removing_a_running_container_kills_and_removes_it()
    {
        var pods = fixture.Pods;
        var (podId, pod) = await pods.RunPodAsync("remove-running");
        var id = await pods.StartAsync(podId, pod, "victim", TestImageNames.Busybox, ["sleep", "300"]);
        Assert.Equal(ContainerState.ContainerRunning, (await pods.StatusAsync(id)).State);

        await fixture.Runtime.RemoveContainerAsync(new RemoveContainerRequest { ContainerId = id });

        var listed = await fixture.Runtime.ListContainersAsync(new ListContainersRequest { Filter = new ContainerFilter { PodSandboxId = podId } });
        Assert.Empty(listed.Containers);
        Assert.DoesNotContain(File.ReadAllText("/proc/self/mountinfo").Split('\n'), line => line.Contains(id, StringComparison.Ordinal));

        await fixture.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId });
        await fixture.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId });
    }
}
