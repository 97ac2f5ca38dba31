using Crisp.Cri.V1;
using Crisp.Runtime.Api;
using Crisp.Runtime.Handlers;
using Crisp.Runtime.Host;
using Crisp.Runtime.State;
using Crisp.Runtime.Streaming;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Crisp.Runtime.Tests.Handlers;

/// <summary>ExecSync asks the runtime nothing (no `runc state` process) when crisp's record already knows the container.</summary>
public sealed class ExecTargetTests
{
    private static ContainerRecord Running(int pid, ulong startTime) => new()
    {
        Id = "c1",
        SandboxId = "p1",
        Config = new ContainerConfig { Metadata = new ContainerMetadata { Name = "app" } },
        RuntimeHandler = "runc",
        CreatedAtNanos = 1,
        Phase = ContainerPhase.Running,
        ImageId = "sha256:abc",
        ImageName = "busybox:latest",
        ImageRef = "sha256:abc",
        Directory = "/state/c1",
        BundleDirectory = "/state/c1/bundle",
        Pid = pid,
        PidStartTime = startTime,
    };

    [Fact]
    public void ARecordWithItsInitProcessNamesTheBundleAndTheInit()
    {
        var record = Running(pid: 4242, startTime: 99);

        var target = ExecService.ExecTargetOf(record);

        Assert.Equal(new ExecTarget("c1", "/state/c1/bundle", new ProcessIdentity(4242, 99)), target);
    }

    [Fact]
    public void ARecordWithoutTheInitsStartTimeIsLookedUpInTheRuntime()
    {
        var record = Running(pid: 4242, startTime: 0);

        Assert.Equal(ExecTarget.ById("c1"), ExecService.ExecTargetOf(record));
    }

    [Fact]
    public async Task AnExitedInitRefusesTheExecWithoutStartingTheRuntime()
    {
        // The runtime binary does not exist: any attempt to ask it (`state`) would fail differently.
        var handler = new OciRuntimeHandler(
            new RuntimeHandlerOptions { Name = "runc", Path = "/no/such/runc", Root = "/no/such/root" }, "/no/such/conmon", "cgroupfs", NullLogger.Instance);
        // This process's pid with a start time it never had: the recorded init is gone and its pid reused.
        var gone = new ExecTarget("c1", "/state/c1/bundle", new ProcessIdentity(Environment.ProcessId, 1));

        var error = await Assert.ThrowsAsync<RuntimeException>(() =>
            handler.ExecSyncAsync(gone, ["true"], TimeSpan.FromSeconds(5), 1024, CancellationToken.None));

        Assert.Equal(RuntimeErrorKind.FailedPrecondition, error.Kind);
        Assert.Contains("c1 is not running", error.Message);
    }
}
