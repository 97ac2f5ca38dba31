using Crisp.Runtime.Handlers;
using Crisp.Runtime.State;
using Crisp.Runtime.Tests.Fakes;
using Xunit;

namespace Crisp.Runtime.Tests.Recovery;

/// <summary>What a restarted crispd makes of each combination of record, runtime state and conmon exit file.</summary>
public sealed class RecoveryServiceTests : IDisposable
{
    private const int RecordedExitCode = 3;
    private const int ExitFileCode = 7;

    private readonly RuntimeHarness _runtime = new();

    public void Dispose() => _runtime.Dispose();

    public static TheoryData<ContainerPhase, RuntimeStatus?, bool, ContainerPhase, int?> Combinations()
    {
        var data = new TheoryData<ContainerPhase, RuntimeStatus?, bool, ContainerPhase, int?>();
        foreach (var runtime in new RuntimeStatus?[] { RuntimeStatus.Running, RuntimeStatus.Stopped, null })
        foreach (var exitFile in new[] { true, false })
        {
            var alive = runtime == RuntimeStatus.Running;
            // An exit file always wins; without one a live container keeps (or reaches) Running, a gone one is Unknown (255).
            int? expectedCode = exitFile ? ExitFileCode : alive ? null : 255;
            data.Add(ContainerPhase.Created, runtime, exitFile,
                exitFile || !alive ? ContainerPhase.Exited : ContainerPhase.Running, expectedCode);
            data.Add(ContainerPhase.Running, runtime, exitFile,
                exitFile || !alive ? ContainerPhase.Exited : ContainerPhase.Running, expectedCode);
            // An exit already recorded is final.
            data.Add(ContainerPhase.Exited, runtime, exitFile, ContainerPhase.Exited, RecordedExitCode);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Combinations))]
    public async Task ContainerRecordIsReconciledWithTheRuntimeAndTheExitFile(
        ContainerPhase recorded, RuntimeStatus? runtime, bool exitFile, ContainerPhase expectedPhase, int? expectedExitCode)
    {
        var id = await ContainerInPhaseAsync(recorded);
        _runtime.Handler.SetStatus(id, runtime);
        if (exitFile) _runtime.WriteExitFile(id, ExitFileCode);
        _runtime.Handler.Deletes.Clear();

        using var restarted = _runtime.Restart();
        await restarted.Recovery.RecoverAsync(CancellationToken.None);

        var record = restarted.Store.FindContainer(id)!;
        Assert.Equal(expectedPhase, record.Phase);
        // No runtime process per container before the socket answers: an exit found here leaves the runtime's
        // state to the removal.
        Assert.Empty(restarted.Handler.Deletes);
        if (recorded != ContainerPhase.Exited) Assert.False(record.RuntimeStateDeleted);
        if (expectedExitCode is not null) Assert.Equal(expectedExitCode, record.ExitCode);
        if (expectedExitCode == 255) Assert.Equal("Unknown", record.Reason);
        if (expectedPhase == ContainerPhase.Running) Assert.True(record.StartedAtNanos > 0);
    }

    [Theory]
    [InlineData(RuntimeStatus.Running, true)]
    [InlineData(RuntimeStatus.Running, false)]
    [InlineData(RuntimeStatus.Stopped, true)]
    [InlineData(RuntimeStatus.Stopped, false)]
    [InlineData(null, true)]
    [InlineData(null, false)]
    public async Task AHalfCreatedContainerIsRemovedWhateverTheRuntimeSays(RuntimeStatus? runtime, bool exitFile)
    {
        var sandbox = await _runtime.RunPodAsync();
        var id = await _runtime.CreateContainerAsync(sandbox);
        var record = _runtime.Store.FindContainer(id)!;
        record.Phase = ContainerPhase.Creating;
        await _runtime.Store.SaveAsync(record, CancellationToken.None);
        _runtime.Handler.SetStatus(id, runtime);
        if (exitFile) _runtime.WriteExitFile(id, ExitFileCode);

        using var restarted = _runtime.Restart();
        await restarted.Recovery.RecoverAsync(CancellationToken.None);

        Assert.Null(restarted.Store.FindContainer(id));
        Assert.Empty(restarted.Handler.Known);
        Assert.Empty(restarted.Mounts.MountsUnder(record.Directory));
        Assert.False(Directory.Exists(record.Directory));
        Assert.False(Directory.Exists(record.BundleDirectory));
        Assert.False(File.Exists(Path.Combine(restarted.Layout.ExitDir, id)));
        Assert.Equal(SandboxPhase.Ready, restarted.Store.FindSandbox(sandbox)!.Phase);
    }

    [Fact]
    public async Task AnInterruptedContainerRemovalIsFinished()
    {
        var sandbox = await _runtime.RunPodAsync();
        var id = await _runtime.CreateContainerAsync(sandbox);
        var record = _runtime.Store.FindContainer(id)!;
        record.Phase = ContainerPhase.Removing;
        await _runtime.Store.SaveAsync(record, CancellationToken.None);

        using var restarted = _runtime.Restart();
        await restarted.Recovery.RecoverAsync(CancellationToken.None);

        Assert.Null(restarted.Store.FindContainer(id));
        Assert.Empty(restarted.Handler.Known);
        Assert.False(Directory.Exists(record.Directory));
    }

    [Fact]
    public async Task AHalfCreatedSandboxIsRemovedWithItsNetworkNamespacesAndCgroup()
    {
        var id = await _runtime.RunPodAsync();
        var sandbox = _runtime.Store.FindSandbox(id)!;
        sandbox.Phase = SandboxPhase.Creating;
        await _runtime.Store.SaveAsync(sandbox, CancellationToken.None);

        using var restarted = _runtime.Restart();
        await restarted.Recovery.RecoverAsync(CancellationToken.None);

        restarted.AssertNothingLeft();
    }

    [Fact]
    public async Task AnInterruptedSandboxRemovalIsFinishedWithItsContainers()
    {
        var id = await _runtime.RunPodAsync();
        await _runtime.StartedContainerAsync(id);
        var sandbox = _runtime.Store.FindSandbox(id)!;
        sandbox.Phase = SandboxPhase.Removing;
        await _runtime.Store.SaveAsync(sandbox, CancellationToken.None);

        using var restarted = _runtime.Restart();
        await restarted.Recovery.RecoverAsync(CancellationToken.None);

        restarted.AssertNothingLeft();
    }

    [Theory]
    [InlineData("net")]
    [InlineData("shm")]
    [InlineData("pid holder")]
    public async Task AReadySandboxThatLostANamespaceOrItsShmIsMarkedNotReady(string lost)
    {
        var id = await _runtime.Sandboxes.RunPodSandboxAsync(RuntimeHarness.PodRequest(sharedPid: true), CancellationToken.None);
        var sandbox = _runtime.Store.FindSandbox(id)!;
        switch (lost)
        {
            case "net": File.Delete(sandbox.NetworkNamespacePath!); break;
            case "shm": _runtime.Mounts.Lose(sandbox.ShmPath); break;
            case "pid holder": _runtime.Namespaces.PidHolderAlive = false; break;
        }

        using var restarted = _runtime.Restart();
        await restarted.Recovery.RecoverAsync(CancellationToken.None);

        var recovered = restarted.Store.FindSandbox(id)!;
        Assert.Equal(SandboxPhase.NotReady, recovered.Phase);
        Assert.Equal(lost != "shm", recovered.ShmMounted);
    }

    [Fact]
    public async Task AReadySandboxWithEverythingInPlaceStaysReady()
    {
        var id = await _runtime.Sandboxes.RunPodSandboxAsync(RuntimeHarness.PodRequest(sharedPid: true), CancellationToken.None);

        using var restarted = _runtime.Restart();
        await restarted.Recovery.RecoverAsync(CancellationToken.None);

        Assert.Equal(SandboxPhase.Ready, restarted.Store.FindSandbox(id)!.Phase);
    }

    [Fact]
    public async Task AnAttachmentWhoseSandboxIsGoneIsDetached()
    {
        var kept = await _runtime.RunPodAsync();
        var orphan = new string('e', 64);
        _runtime.Network.AddAttachment(orphan);

        using var restarted = _runtime.Restart();
        await restarted.Recovery.RecoverAsync(CancellationToken.None);

        Assert.Equal([kept], restarted.Network.Attached);
    }

    [Fact]
    public async Task A_running_container_whose_recorded_process_lives_is_recovered_without_asking_the_runtime()
    {
        // This test process stands in for the container's init: alive, same start time, not runc's init.
        var id = await ContainerWithRecordedInitAsync(ContainerPhase.Running, startTimeOffset: 0);
        var queriesBefore = _runtime.Handler.StateQueries;

        using var restarted = _runtime.Restart();
        await restarted.Recovery.RecoverAsync(CancellationToken.None);

        Assert.Equal(ContainerPhase.Running, restarted.Store.FindContainer(id)!.Phase);
        Assert.Equal(queriesBefore, restarted.Handler.StateQueries);
    }

    [Fact]
    public async Task A_container_whose_recorded_process_is_gone_takes_its_exit_file_without_asking_the_runtime()
    {
        // Our own pid with another start time: the pid now names a different process, so the recorded one is gone.
        var id = await ContainerWithRecordedInitAsync(ContainerPhase.Running, startTimeOffset: 1);
        _runtime.WriteExitFile(id, ExitFileCode);
        var queriesBefore = _runtime.Handler.StateQueries;

        using var restarted = _runtime.Restart();
        await restarted.Recovery.RecoverAsync(CancellationToken.None);

        var recovered = restarted.Store.FindContainer(id)!;
        Assert.Equal(ContainerPhase.Exited, recovered.Phase);
        Assert.Equal(ExitFileCode, recovered.ExitCode);
        Assert.Equal(queriesBefore, restarted.Handler.StateQueries);
    }

    [Fact]
    public async Task A_created_container_whose_init_no_longer_waits_to_start_is_asked_of_the_runtime()
    {
        var id = await ContainerWithRecordedInitAsync(ContainerPhase.Created, startTimeOffset: 0);
        _runtime.Handler.SetStatus(id, RuntimeStatus.Running);

        using var restarted = _runtime.Restart();
        await restarted.Recovery.RecoverAsync(CancellationToken.None);

        // Started just before the crash: only the runtime could say so.
        Assert.Equal(ContainerPhase.Running, restarted.Store.FindContainer(id)!.Phase);
        Assert.True(restarted.Handler.StateQueries > 0);
    }

    /// <summary>A container whose recorded init is this test process (its start time shifted by the offset: 0 is alive, else gone).</summary>
    private async Task<string> ContainerWithRecordedInitAsync(ContainerPhase phase, ulong startTimeOffset)
    {
        var id = await ContainerInPhaseAsync(phase);
        var record = _runtime.Store.FindContainer(id)!;
        record.Pid = Environment.ProcessId;
        record.PidStartTime = Crisp.Interop.Procfs.ProcessStat.TryRead(Environment.ProcessId)!.Value.StartTime + startTimeOffset;
        await _runtime.Store.SaveAsync(record, CancellationToken.None);
        return id;
    }

    private async Task<string> ContainerInPhaseAsync(ContainerPhase phase)
    {
        var sandbox = await _runtime.RunPodAsync();
        var id = phase == ContainerPhase.Created
            ? await _runtime.CreateContainerAsync(sandbox)
            : await _runtime.StartedContainerAsync(sandbox);
        if (phase == ContainerPhase.Exited)
            await _runtime.Exits.MarkExitedAsync(id, RecordedExitCode, DateTimeOffset.UtcNow, oomKilled: false);
        Assert.Equal(phase, _runtime.Store.FindContainer(id)!.Phase);
        return id;
    }
}
