using Crisp.Cri.V1;
using Crisp.Runtime.Api;
using Crisp.Runtime.State;
using Crisp.Runtime.Tests.Fakes;
using Xunit;

namespace Crisp.Runtime.Tests.Containers;

/// <summary>ContainerCreator, ContainerService and ContainerTeardown over the in-memory seams.</summary>
public sealed class ContainerServiceTests : IDisposable
{
    private readonly RuntimeHarness _runtime = new();

    public void Dispose() => _runtime.Dispose();

    public static TheoryData<string> CreateSteps => new()
    {
        "save before mount", "rootfs mount", "save spec", "runtime create", "save created",
    };

    private void FailAt(string step)
    {
        var injected = new IOException($"injected failure at {step}");
        switch (step)
        {
            case "rootfs mount": _runtime.Mounts.FailMountRootfs = injected; break;
            case "runtime create": _runtime.Handler.FailCreate = new RuntimeException(RuntimeErrorKind.Internal, "injected runc create failure"); break;
            case "save before mount": _runtime.Store.FailSave = r => r is ContainerRecord { RootfsMounted: true, SpecJson: "" }; break;
            case "save spec": _runtime.Store.FailSave = r => r is ContainerRecord { Phase: ContainerPhase.Creating, SpecJson: not "" }; break;
            case "save created": _runtime.Store.FailSave = r => r is ContainerRecord { Phase: ContainerPhase.Created }; break;
            default: throw new ArgumentException(step, nameof(step));
        }
    }

    [Theory]
    [MemberData(nameof(CreateSteps))]
    public async Task CreateContainerFailingAtAnyStepLeavesNothingBehind(string step)
    {
        var sandbox = await _runtime.RunPodAsync();
        var sandboxEntries = _runtime.LeftoverEntries();
        FailAt(step);

        var error = await Assert.ThrowsAsync<RuntimeException>(() => _runtime.CreateContainerAsync(sandbox));

        Assert.Contains("injected", error.Message);
        Assert.Empty(_runtime.Store.Containers);
        // runc's record (and with it the container cgroup runc made) is deleted.
        Assert.Empty(_runtime.Handler.Known);
        Assert.Empty(_runtime.Mounts.MountsUnder(_runtime.Layout.ContainersRoot));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_runtime.Layout.ContainersRoot));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_runtime.Layout.ContainersStateRoot));
        Assert.Equal(sandboxEntries, _runtime.LeftoverEntries());
        Assert.Equal(SandboxPhase.Ready, _runtime.Store.FindSandbox(sandbox)!.Phase);
    }

    [Fact]
    public async Task AFailedCreateLeavesTheNameFreeForTheRetry()
    {
        var sandbox = await _runtime.RunPodAsync();
        _runtime.Mounts.FailMountRootfs = new IOException("injected");
        await Assert.ThrowsAsync<RuntimeException>(() => _runtime.CreateContainerAsync(sandbox));
        _runtime.Mounts.FailMountRootfs = null;

        var id = await _runtime.CreateContainerAsync(sandbox);

        Assert.Equal(ContainerPhase.Created, _runtime.Store.FindContainer(id)!.Phase);
        Assert.True(_runtime.Mounts.RootfsIdmaps.ContainsKey(_runtime.Store.FindContainer(id)!.RootfsPath));
    }

    [Fact]
    public async Task TheHostLetsGoOfTheRootfsMountOnceTheRuntimeCreatedTheContainer()
    {
        var sandbox = await _runtime.RunPodAsync();
        var mountedAtCreate = new List<string>();
        _runtime.Handler.Creating = _ => mountedAtCreate.AddRange(_runtime.Mounts.MountsUnder(_runtime.Layout.ContainersRoot));

        var id = await _runtime.CreateContainerAsync(sandbox);

        var record = _runtime.Store.FindContainer(id)!;
        // runc copied the mount into the container's mount namespace; the host's copy would only grow its mount table.
        Assert.Equal([record.RootfsPath], mountedAtCreate);
        Assert.Empty(_runtime.Mounts.MountsUnder(_runtime.Layout.ContainersRoot));
        Assert.Equal((ContainerPhase.Created, false), (record.Phase, record.RootfsMounted));
        // Verbose status points an operator at the rootfs where it still is: the init's /proc root (the fake runtime
        // reports no init pid; conmon's pid file gives the real one).
        record.Pid = 4242;
        var info = System.Text.Json.Nodes.JsonNode.Parse(new Crisp.Runtime.Containers.ContainerQueries(_runtime.Store)
            .ContainerStatus(new ContainerStatusRequest { ContainerId = id, Verbose = true }).Info["info"])!;
        Assert.Equal($"/proc/{record.Pid}/root", (string?)info["rootfs"]);
        Assert.Equal(record.UpperPath, (string?)info["writableLayer"]);
    }

    [Fact]
    public async Task AFailedStartRecordsAStartErrorExit()
    {
        var sandbox = await _runtime.RunPodAsync();
        var id = await _runtime.CreateContainerAsync(sandbox);
        _runtime.Handler.FailStart = new IOException("injected runc start failure");

        await Assert.ThrowsAsync<RuntimeException>(() =>
            _runtime.Containers.StartContainerAsync(new StartContainerRequest { ContainerId = id }, CancellationToken.None));

        var record = _runtime.Store.FindContainer(id)!;
        Assert.Equal((ContainerPhase.Exited, 128, "StartError"), (record.Phase, record.ExitCode, record.Reason));
    }

    [Fact]
    public async Task AFailedStartPublishesTheStoppedEventWithTheStartErrorStatus()
    {
        var sandbox = await _runtime.RunPodAsync();
        var id = await _runtime.CreateContainerAsync(sandbox);
        using var subscription = _runtime.Events.Subscribe();
        _runtime.Handler.FailStart = new IOException("injected runc start failure");

        await Assert.ThrowsAsync<RuntimeException>(() =>
            _runtime.Containers.StartContainerAsync(new StartContainerRequest { ContainerId = id }, CancellationToken.None));

        Assert.True(subscription.Reader.TryRead(out var stopped));
        Assert.Equal((ContainerEventType.ContainerStoppedEvent, id), (stopped!.ContainerEventType, stopped.ContainerId));
        var status = Assert.Single(stopped.ContainersStatuses, s => s.Id == id);
        Assert.Equal((ContainerState.ContainerExited, "StartError"), (status.State, status.Reason));
    }

    [Fact]
    public async Task StopContainerTwiceAndOfAnUnknownIdSucceeds()
    {
        var sandbox = await _runtime.RunPodAsync();
        var id = await _runtime.StartedContainerAsync(sandbox);

        await _runtime.Teardown.StopContainerAsync(new StopContainerRequest { ContainerId = id, Timeout = 5 }, CancellationToken.None);
        var kills = _runtime.Handler.Kills.Count;
        await _runtime.Teardown.StopContainerAsync(new StopContainerRequest { ContainerId = id, Timeout = 5 }, CancellationToken.None);
        await _runtime.Teardown.StopContainerAsync(new StopContainerRequest { ContainerId = new string('f', 64) }, CancellationToken.None);

        var record = _runtime.Store.FindContainer(id)!;
        Assert.Equal(ContainerPhase.Exited, record.Phase);
        // The stop signal (SIGTERM by default) ended it; the repeated stop signalled nothing.
        Assert.Equal([(id, 15)], _runtime.Handler.Kills);
        Assert.Equal(1, kills);
        Assert.Equal(128 + 15, record.ExitCode);
    }

    [Fact]
    public async Task RemoveContainerTwiceAndOfAnUnknownIdSucceedsAndRemovesEverything()
    {
        var sandbox = await _runtime.RunPodAsync();
        var id = await _runtime.StartedContainerAsync(sandbox);
        var record = _runtime.Store.FindContainer(id)!;
        _runtime.WriteExitFile(id, 0);

        await _runtime.Teardown.RemoveContainerAsync(new RemoveContainerRequest { ContainerId = id }, CancellationToken.None);
        await _runtime.Teardown.RemoveContainerAsync(new RemoveContainerRequest { ContainerId = id }, CancellationToken.None);
        await _runtime.Teardown.RemoveContainerAsync(new RemoveContainerRequest { ContainerId = new string('f', 64) }, CancellationToken.None);

        Assert.Empty(_runtime.Store.Containers);
        // A running container is force-stopped first (SIGKILL, every process).
        Assert.Equal([(id, 9)], _runtime.Handler.Kills);
        Assert.Empty(_runtime.Handler.Known);
        Assert.Empty(_runtime.Mounts.MountsUnder(_runtime.Layout.ContainersRoot));
        Assert.False(Directory.Exists(record.Directory));
        Assert.False(Directory.Exists(record.BundleDirectory));
        Assert.False(File.Exists(Path.Combine(_runtime.Layout.ExitDir, id)));
    }

    [Fact]
    public async Task AFailedRemovalKeepsTheRecordSoTheRetryFinishesIt()
    {
        var sandbox = await _runtime.RunPodAsync();
        var id = await _runtime.CreateContainerAsync(sandbox);
        _runtime.Handler.FailDelete = new IOException("injected runc delete failure");

        var error = await Assert.ThrowsAsync<RuntimeException>(() =>
            _runtime.Teardown.RemoveContainerAsync(new RemoveContainerRequest { ContainerId = id }, CancellationToken.None));
        Assert.Contains("will be retried", error.Message);
        Assert.Equal(ContainerPhase.Removing, _runtime.Store.FindContainer(id)!.Phase);

        _runtime.Handler.FailDelete = null;
        await _runtime.Teardown.RemoveContainerAsync(new RemoveContainerRequest { ContainerId = id }, CancellationToken.None);
        Assert.Empty(_runtime.Store.Containers);
        Assert.Empty(_runtime.Handler.Known);
    }
}
