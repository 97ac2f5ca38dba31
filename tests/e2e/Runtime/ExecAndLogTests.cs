using Crisp.Cri.V1;
using Crisp.E2E.Fixtures;
using Grpc.Core;
using Xunit;

namespace Crisp.E2E.Runtime;

/// <summary>ExecSync with output, exit codes and deadlines; the CRI log format and log reopening.</summary>
[Collection(RuntimeCollection.Name)]
public sealed class ExecAndLogTests(RuntimeFixture fixture) : IAsyncLifetime
{
    private PodHelper Pods => fixture.Pods;
    private string _podId = "";
    private PodSandboxConfig _pod = new();

    public async Task InitializeAsync() => (_podId, _pod) = await Pods.RunPodAsync("exec-" + Guid.NewGuid().ToString("N")[..8]);

    public async Task DisposeAsync()
    {
        await fixture.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = _podId });
        await fixture.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = _podId });
    }

    [Fact]
    public async Task ExecSync_returns_output_and_exit_code()
    {
        var id = await Pods.StartAsync(_podId, _pod, "target", TestImageNames.Busybox, ["sleep", "300"]);
        var ok = await Pods.ExecAsync(id, 10, "sh", "-c", "echo out; echo err >&2; exit 3");
        Assert.Equal(3, ok.ExitCode);
        Assert.Equal("out\n", PodHelper.Utf8(ok.Stdout));
        Assert.Equal("err\n", PodHelper.Utf8(ok.Stderr));

        var noTimeout = await Pods.ExecAsync(id, 0, "true");
        Assert.Equal(0, noTimeout.ExitCode);
    }

    [Fact]
    public async Task ExecSync_is_cut_at_its_deadline_even_with_a_background_child_holding_the_pipes()
    {
        var id = await Pods.StartAsync(_podId, _pod, "slow", TestImageNames.Busybox, ["sleep", "300"]);
        var started = DateTime.UtcNow;
        var ex = await Assert.ThrowsAsync<RpcException>(() => Pods.ExecAsync(id, 1, "sh", "-c", "sleep 100 & sleep 100"));
        var elapsed = DateTime.UtcNow - started;
        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
        Assert.InRange(elapsed.TotalSeconds, 0.9, 5);
        // The container itself is unaffected.
        Assert.Equal(ContainerState.ContainerRunning, (await Pods.StatusAsync(id)).State);
    }

    [Fact]
    public async Task ExecSync_in_a_stopped_container_is_a_failed_precondition()
    {
        var id = await Pods.StartAsync(_podId, _pod, "done", TestImageNames.Busybox, ["true"]);
        await Pods.WaitForExitAsync(id);
        var ex = await Assert.ThrowsAsync<RpcException>(() => Pods.ExecAsync(id, 5, "true"));
        Assert.Equal(StatusCode.FailedPrecondition, ex.StatusCode);
    }

    [Fact]
    public async Task Log_lines_use_the_cri_format_and_partial_lines_are_tagged_P()
    {
        var (_, _, _) = await Pods.RunToExitAsync(_podId, _pod, "format", TestImageNames.Busybox, ["sh", "-c", "echo full; printf partial"]);
        var path = Path.Combine(_pod.LogDirectory, "format/0.log");
        var raw = await File.ReadAllLinesAsync(path);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(Z|[+-]\d\d:\d\d) stdout F full$", raw[0]);
        Assert.Matches(@"^\S+ stdout P partial$", raw[1]);
    }

    [Fact]
    public async Task ReopenContainerLog_continues_in_a_new_file_after_rotation()
    {
        var id = await Pods.StartAsync(_podId, _pod, "rotating", TestImageNames.Busybox,
            ["sh", "-c", "i=0; while true; do i=$((i+1)); echo line$i; sleep 0.1; done"]);
        var path = Path.Combine(_pod.LogDirectory, "rotating/0.log");
        await LifecycleTests.WaitUntilAsync(() => File.Exists(path) && File.ReadAllText(path).Contains("line3"));
        File.Move(path, path + ".1");
        await fixture.Runtime.ReopenContainerLogAsync(new ReopenContainerLogRequest { ContainerId = id });
        await LifecycleTests.WaitUntilAsync(() => File.Exists(path) && File.ReadAllText(path).Contains("line"));
        var rotated = PodHelper.LogText(await PodHelper.ReadLogAsync(path + ".1"));
        var fresh = PodHelper.LogText(await PodHelper.ReadLogAsync(path));
        Assert.Contains("line1", rotated);
        Assert.DoesNotContain("line1\n", fresh + "\n");

        await fixture.Runtime.StopContainerAsync(new StopContainerRequest { ContainerId = id, Timeout = 0 });
        var ex = await Assert.ThrowsAsync<RpcException>(() => fixture.Runtime.ReopenContainerLogAsync(new ReopenContainerLogRequest { ContainerId = id }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, ex.StatusCode);
    }
}
