using Crisp.Cri.V1;
using Xunit;

namespace Crisp.E2E.Runtime;

/// <summary>The kubelet's basic sequence, end to end over the socket with real runc and conmon.</summary>
[Collection(RuntimeCollection.Name)]
public sealed class LifecycleTests(RuntimeFixture fixture)
{
    private PodHelper Pods => fixture.Pods;

    [Fact]
    public async Task Pod_and_container_go_through_the_whole_lifecycle()
    {
        var (podId, pod) = await Pods.RunPodAsync("lifecycle");
        var podStatus = await fixture.Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = podId, Verbose = true });
        Assert.Equal(PodSandboxState.SandboxReady, podStatus.Status.State);
        Assert.Equal("lifecycle", podStatus.Status.Metadata.Name);
        Assert.Equal("runc", podStatus.Status.RuntimeHandler);
        Assert.Equal("runtime", podStatus.Status.Labels["e2e"]);
        Assert.True(podStatus.Info.ContainsKey("info"));

        var config = await Pods.ContainerConfigAsync("app", "busybox", ["sh", "-c", "trap 'echo got TERM; exit 3' TERM; echo hello; echo oops >&2; hostname; sleep 300 & wait"]);
        var id = await Pods.CreateAsync(podId, pod, config);
        var created = await Pods.StatusAsync(id);
        Assert.Equal(ContainerState.ContainerCreated, created.State);
        Assert.True(created.CreatedAt > 0);
        Assert.Equal(fixture.Registry["busybox"].Image.ImageId, created.ImageId);

        await fixture.Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = id });
        var running = await Pods.StatusAsync(id, verbose: true);
        Assert.Equal(ContainerState.ContainerRunning, running.State);
        Assert.True(running.StartedAt >= running.CreatedAt);

        var listed = await fixture.Runtime.ListContainersAsync(new ListContainersRequest { Filter = new ContainerFilter { PodSandboxId = podId } });
        Assert.Equal(id, Assert.Single(listed.Containers).Id);

        var logPath = Path.Combine(pod.LogDirectory, config.LogPath);
        Assert.Equal(logPath, running.LogPath);
        await WaitUntilAsync(() => File.Exists(logPath) && File.ReadAllText(logPath).Contains("lifecycle"));
        var log = await PodHelper.ReadLogAsync(logPath);
        Assert.Contains(("stdout", "F", "hello"), log);
        Assert.Contains(("stderr", "F", "oops"), log);
        Assert.Contains(("stdout", "F", "lifecycle"), log);

        await fixture.Runtime.StopContainerAsync(new StopContainerRequest { ContainerId = id, Timeout = 10 });
        var stopped = await Pods.StatusAsync(id);
        Assert.Equal(ContainerState.ContainerExited, stopped.State);
        Assert.Equal(3, stopped.ExitCode); // from the TERM trap
        Assert.Equal("Error", stopped.Reason);
        Assert.Contains(("stdout", "F", "got TERM"), await PodHelper.ReadLogAsync(logPath));
        Assert.True(stopped.FinishedAt >= stopped.StartedAt);

        // Idempotent stop.
        await fixture.Runtime.StopContainerAsync(new StopContainerRequest { ContainerId = id, Timeout = 10 });

        await fixture.Runtime.RemoveContainerAsync(new RemoveContainerRequest { ContainerId = id });
        Assert.Empty((await fixture.Runtime.ListContainersAsync(new ListContainersRequest { Filter = new ContainerFilter { PodSandboxId = podId } })).Containers);
        Assert.True(File.Exists(logPath), "the log file belongs to the kubelet and must stay");

        await fixture.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId });
        var stoppedPod = await fixture.Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = podId });
        Assert.Equal(PodSandboxState.SandboxNotready, stoppedPod.Status.State);
        await fixture.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId });
        await fixture.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId });
        await fixture.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId });
        var pods = await fixture.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest { Filter = new PodSandboxFilter { Id = podId } });
        Assert.Empty(pods.Items);
        Assert.DoesNotContain(File.ReadAllText("/proc/self/mountinfo").Split('\n'), l => l.Contains(podId) || l.Contains(id));
    }

    [Fact]
    public async Task A_created_container_has_its_rootfs_in_its_own_mount_namespace_only_and_runs_from_it()
    {
        var (podId, pod) = await Pods.RunPodAsync("own-rootfs");
        var id = await Pods.CreateAsync(podId, pod, await Pods.ContainerConfigAsync("app", "busybox", ["sleep", "300"]));

        // A host copy of every container's overlay would lengthen the mountinfo each later runc create and exec reads.
        Assert.DoesNotContain(File.ReadAllText("/proc/self/mountinfo").Split('\n'), l => l.Contains(id, StringComparison.Ordinal));
        await fixture.Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = id });
        var exec = await Pods.ExecAsync(id, 10, "sh", "-c", "echo kept > /written && cat /written && grep -c ^root: /etc/passwd");
        Assert.Equal("kept\n1\n", PodHelper.Utf8(exec.Stdout));
        // The write went to the container's upper layer, where the writable-layer stats count it.
        Assert.Equal("kept\n", await File.ReadAllTextAsync(Path.Combine(fixture.Daemon.RootDirectory, "containers", id, "upper", "written")));

        await fixture.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId });
        await fixture.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId });
        Assert.False(Directory.Exists(Path.Combine(fixture.Daemon.RootDirectory, "containers", id)));
    }

    [Fact]
    public async Task Created_containers_that_never_started_are_removed_with_everything_they_had()
    {
        var (podId, pod) = await Pods.RunPodAsync("neverstarted");
        var direct = await Pods.CreateAsync(podId, pod, await Pods.ContainerConfigAsync("direct", "busybox", ["sleep", "300"]));
        var viaPod = await Pods.CreateAsync(podId, pod, await Pods.ContainerConfigAsync("viapod", "busybox", ["sleep", "300"]));
        await fixture.Runtime.RemoveContainerAsync(new RemoveContainerRequest { ContainerId = direct });
        await fixture.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId });
        await fixture.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId });
        await RecoveryTests.AssertNothingLeftAsync(fixture.Daemon, pod, [direct, viaPod], daemonHasOtherPods: true);
    }

    [Fact]
    public async Task Concurrent_pods_and_containers_do_not_interfere()
    {
        await fixture.ImageAsync("busybox");
        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(async i =>
        {
            var (podId, pod) = await Pods.RunPodAsync($"parallel-{i}");
            var ids = await Task.WhenAll(Enumerable.Range(0, 3).Select(j =>
                Pods.StartAsync(podId, pod, $"c{j}", "busybox", ["sleep", "300"])));
            var outputs = await Task.WhenAll(ids.Select(id => Pods.ExecAsync(id, 10, "hostname")));
            Assert.All(outputs, o => Assert.Equal($"parallel-{i}\n", PodHelper.Utf8(o.Stdout)));
            await fixture.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId });
            await fixture.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId });
            return (podId, ids);
        }));
        var pods = await fixture.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest());
        Assert.DoesNotContain(pods.Items, p => results.Any(r => r.podId == p.Id));
        var containers = await fixture.Runtime.ListContainersAsync(new ListContainersRequest());
        Assert.DoesNotContain(containers.Containers, c => results.Any(r => r.ids.Contains(c.Id)));
    }

    [Fact]
    public async Task Exit_codes_and_reasons_are_reported()
    {
        var (podId, pod) = await Pods.RunPodAsync("exits");
        var ok = await Pods.StartAsync(podId, pod, "ok", "busybox", ["sh", "-c", "exit 0"]);
        var bad = await Pods.StartAsync(podId, pod, "bad", "busybox", ["sh", "-c", "exit 42"]);
        var okStatus = await Pods.WaitForExitAsync(ok);
        var badStatus = await Pods.WaitForExitAsync(bad);
        Assert.Equal(0, okStatus.ExitCode);
        Assert.Equal("Completed", okStatus.Reason);
        Assert.Equal(42, badStatus.ExitCode);
        Assert.Equal("Error", badStatus.Reason);
        await RemovePodAsync(podId);
    }

    [Fact]
    public async Task Stop_sends_sigkill_when_the_signal_is_ignored_past_the_timeout()
    {
        var (podId, pod) = await Pods.RunPodAsync("stubborn");
        // pid 1 of a PID namespace ignores SIGTERM unless it handles it.
        var id = await Pods.StartAsync(podId, pod, "stubborn", "busybox", ["sleep", "300"]);
        var started = DateTime.UtcNow;
        await fixture.Runtime.StopContainerAsync(new StopContainerRequest { ContainerId = id, Timeout = 2 });
        var elapsed = DateTime.UtcNow - started;
        var status = await Pods.StatusAsync(id);
        Assert.Equal(ContainerState.ContainerExited, status.State);
        Assert.Equal(137, status.ExitCode);
        Assert.InRange(elapsed.TotalSeconds, 1.9, 8);
        await RemovePodAsync(podId);
    }

    [Fact]
    public async Task Stop_signal_comes_from_the_image_when_the_config_has_none()
    {
        var (podId, pod) = await Pods.RunPodAsync("stopsignal");
        var id = await Pods.StartAsync(podId, pod, "app", "labels-stopsignal", null);
        var logPath = Path.Combine(pod.LogDirectory, "app/0.log");
        await Task.Delay(500);
        await fixture.Runtime.StopContainerAsync(new StopContainerRequest { ContainerId = id, Timeout = 10 });
        await WaitUntilAsync(() => File.ReadAllText(logPath).Contains("got USR1"));
        var status = await Pods.StatusAsync(id);
        Assert.Equal(ContainerState.ContainerExited, status.State);
        Assert.NotEqual(137, status.ExitCode);
        await RemovePodAsync(podId);
    }

    private async Task RemovePodAsync(string podId)
    {
        await fixture.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId });
        await fixture.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId });
    }

    internal static async Task WaitUntilAsync(Func<bool> condition, int timeoutMs = 10_000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not met in time");
            await Task.Delay(50);
        }
    }
}
