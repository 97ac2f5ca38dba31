using Crisp.Cri.V1;
using Crisp.Runtime.Api;
using Crisp.Runtime.State;
using Crisp.Runtime.Tests.Fakes;
using Xunit;

namespace Crisp.Runtime.Tests.Sandboxes;

public sealed class SandboxServiceTests : IDisposable
{
    private readonly RuntimeHarness _runtime = new();

    public void Dispose() => _runtime.Dispose();

    public static TheoryData<string> SetupSteps => new()
    {
        "pod cgroup", "namespaces", "save namespaces", "network attach", "save pod ip", "save shm", "shm mount", "save ready",
    };

    private void FailAt(string step)
    {
        var injected = new IOException($"injected failure at {step}");
        switch (step)
        {
            case "pod cgroup": _runtime.Cgroups.FailEnsure = injected; break;
            case "namespaces": _runtime.Namespaces.FailCreate = injected; break;
            case "network attach": _runtime.Network.FailAttach = injected; break;
            case "shm mount": _runtime.Mounts.FailMountShm = injected; break;
            case "save namespaces": _runtime.Store.FailSave = r => r is SandboxRecord { NetworkNamespacePath: not null, PodIp: "" }; break;
            case "save pod ip": _runtime.Store.FailSave = r => r is SandboxRecord { PodIp: not "", HostnamePath: "" }; break;
            case "save shm": _runtime.Store.FailSave = r => r is SandboxRecord { ShmMounted: true, Phase: SandboxPhase.Creating }; break;
            case "save ready": _runtime.Store.FailSave = r => r is SandboxRecord { Phase: SandboxPhase.Ready }; break;
            default: throw new ArgumentException(step, nameof(step));
        }
    }

    [Theory]
    [MemberData(nameof(SetupSteps))]
    public async Task RunPodSandboxFailingAtAnyStepLeavesNothingBehind(string step)
    {
        FailAt(step);

        var error = await Assert.ThrowsAsync<RuntimeException>(() => _runtime.RunPodAsync());

        Assert.Contains("injected", error.Message);
        _runtime.AssertNothingLeft();
    }

    [Fact]
    public async Task AFailedRunLeavesTheNameFreeForTheRetry()
    {
        _runtime.Network.FailAttach = new IOException("injected");
        await Assert.ThrowsAsync<RuntimeException>(() => _runtime.RunPodAsync());
        _runtime.Network.FailAttach = null;

        var id = await _runtime.RunPodAsync();

        Assert.Equal(SandboxPhase.Ready, _runtime.Store.FindSandbox(id)!.Phase);
    }

    [Fact]
    public async Task StopPodSandboxTwiceAndOfAnUnknownIdSucceeds()
    {
        var id = await _runtime.RunPodAsync();
        var container = await _runtime.StartedContainerAsync(id);

        await _runtime.Sandboxes.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = id }, CancellationToken.None);
        var killsAfterFirstStop = _runtime.Handler.Kills.Count;
        await _runtime.Sandboxes.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = id }, CancellationToken.None);
        await _runtime.Sandboxes.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = new string('f', 64) }, CancellationToken.None);

        var sandbox = _runtime.Store.FindSandbox(id)!;
        Assert.Equal(SandboxPhase.NotReady, sandbox.Phase);
        Assert.False(sandbox.ShmMounted);
        Assert.Equal(ContainerPhase.Exited, _runtime.Store.FindContainer(container)!.Phase);
        Assert.Equal(killsAfterFirstStop, _runtime.Handler.Kills.Count);
        Assert.Empty(_runtime.Network.Attached);
        Assert.Empty(_runtime.Namespaces.Pinned);
        Assert.Empty(_runtime.Mounts.MountsUnder(sandbox.StateDirectory));
    }

    [Fact]
    public async Task AFailedDetachFailsTheStopAndKeepsTheNamespacesForTheRetry()
    {
        var id = await _runtime.RunPodAsync();
        _runtime.Network.FailDetach = new IOException("injected DEL failure");

        await Assert.ThrowsAsync<IOException>(() =>
            _runtime.Sandboxes.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = id }, CancellationToken.None));
        Assert.Contains(id, _runtime.Namespaces.Pinned);

        _runtime.Network.FailDetach = null;
        await _runtime.Sandboxes.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = id }, CancellationToken.None);
        Assert.Empty(_runtime.Namespaces.Pinned);
        Assert.Empty(_runtime.Network.Attached);
    }

    [Fact]
    public async Task RemovePodSandboxTwiceAndOfAnUnknownIdSucceedsAndRemovesEverything()
    {
        var id = await _runtime.RunPodAsync();
        await _runtime.StartedContainerAsync(id, "running");
        await _runtime.CreateContainerAsync(id, "created");

        await _runtime.Sandboxes.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = id }, CancellationToken.None);
        await _runtime.Sandboxes.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = id }, CancellationToken.None);
        await _runtime.Sandboxes.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = new string('f', 64) }, CancellationToken.None);

        _runtime.AssertNothingLeft();
    }

    [Fact]
    public async Task AFailedRemovalKeepsTheRecordSoTheRetryFinishesIt()
    {
        var id = await _runtime.RunPodAsync();
        _runtime.Network.FailDetach = new IOException("injected DEL failure");

        var error = await Assert.ThrowsAsync<RuntimeException>(() =>
            _runtime.Sandboxes.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = id }, CancellationToken.None));
        Assert.Contains("will be retried", error.Message);
        Assert.Equal(SandboxPhase.Removing, _runtime.Store.FindSandbox(id)!.Phase);

        _runtime.Network.FailDetach = null;
        await _runtime.Sandboxes.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = id }, CancellationToken.None);
        _runtime.AssertNothingLeft();
    }

    [Fact]
    public async Task PodResourcesAreRecordedButNeverWrittenToTheKubeletsPodCgroup()
    {
        const string parent = "/kubepods/burstable/podlimits";
        var request = RuntimeHarness.PodRequest("limits");
        request.Config.Linux.CgroupParent = parent;
        request.Config.Linux.Resources = new LinuxContainerResources { MemoryLimitInBytes = 64L << 20, CpuQuota = 50_000, CpuPeriod = 100_000 };

        var id = await _runtime.Sandboxes.RunPodSandboxAsync(request, CancellationToken.None);
        await _runtime.Sandboxes.UpdatePodSandboxResourcesAsync(new UpdatePodSandboxResourcesRequest
        {
            PodSandboxId = id,
            Resources = new LinuxContainerResources { MemoryLimitInBytes = 96L << 20 },
            Overhead = new LinuxContainerResources { MemoryLimitInBytes = 8L << 20 },
        }, CancellationToken.None);

        // The only thing crisp did to the kubelet's cgroup is make sure it exists.
        Assert.Equal(["ensure " + parent], _runtime.Cgroups.Calls);
        var linux = _runtime.Store.FindSandbox(id)!.Config.Linux;
        Assert.Equal(96L << 20, linux.Resources.MemoryLimitInBytes);
        Assert.Equal(8L << 20, linux.Overhead.MemoryLimitInBytes);
        var info = new Crisp.Runtime.Sandboxes.SandboxQueries(_runtime.Store)
            .PodSandboxStatus(new PodSandboxStatusRequest { PodSandboxId = id, Verbose = true }).Info["info"];
        Assert.Contains((96L << 20).ToString(System.Globalization.CultureInfo.InvariantCulture), info, StringComparison.Ordinal);

        // Removal leaves the kubelet's pod cgroup to the kubelet (a later sandbox of the pod may live in it).
        await _runtime.Sandboxes.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = id }, CancellationToken.None);
        Assert.DoesNotContain(_runtime.Cgroups.Calls, c => c.StartsWith("remove " + parent, StringComparison.Ordinal));
        Assert.Contains(parent, _runtime.Cgroups.PodCgroups);
    }

    [Fact]
    public async Task APodCgroupCrispMadeUpIsRemovedWithThePod()
    {
        var id = await _runtime.RunPodAsync();
        var parent = _runtime.Store.FindSandbox(id)!.CgroupParent;

        await _runtime.Sandboxes.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = id }, CancellationToken.None);

        Assert.Equal(["ensure " + parent, "remove " + parent], _runtime.Cgroups.Calls);
    }
}
