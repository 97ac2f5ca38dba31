using Crisp.Cri.V1;
using Crisp.E2E.Fixtures;
using Grpc.Core;
using Xunit;

namespace Crisp.E2E.Runtime;

/// <summary>Bad requests get a clear status naming the field, and leave no partial pod or container behind.</summary>
[Collection(RuntimeCollection.Name)]
public sealed class BadInputTests(RuntimeFixture fixture)
{
    private PodHelper Pods => fixture.Pods;
    private RuntimeService.RuntimeServiceClient Runtime => fixture.Runtime;

    private static async Task<RpcException> FailsAsync(StatusCode code, string mentions, Func<Task> call)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal(code, ex.StatusCode);
        Assert.Contains(mentions, ex.Status.Detail);
        return ex;
    }

    [Fact]
    public async Task Pod_sandbox_requests_are_validated()
    {
        await FailsAsync(StatusCode.InvalidArgument, "config.metadata", () =>
            Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = new PodSandboxConfig() }).ResponseAsync);
        var noName = Pods.PodConfig("x");
        noName.Metadata.Name = "";
        await FailsAsync(StatusCode.InvalidArgument, "config.metadata.name", () =>
            Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = noName }).ResponseAsync);
        await FailsAsync(StatusCode.InvalidArgument, "nosuchhandler", () =>
            Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = Pods.PodConfig("h"), RuntimeHandler = "nosuchhandler" }).ResponseAsync);

        var (podId, pod) = await Pods.RunPodAsync("dup");
        var ex = await FailsAsync(StatusCode.AlreadyExists, podId, () =>
            Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = pod }).ResponseAsync);
        Assert.Contains("dup", ex.Status.Detail);

        // Unknown ids: stop/remove succeed (kubelet retries), status is NotFound.
        var unknown = new string('a', 64);
        await Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = unknown });
        await Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = unknown });
        await Runtime.StopContainerAsync(new StopContainerRequest { ContainerId = unknown });
        await Runtime.RemoveContainerAsync(new RemoveContainerRequest { ContainerId = unknown });
        await FailsAsync(StatusCode.NotFound, unknown, () =>
            Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = unknown }).ResponseAsync);

        await Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId });
        await Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId });
    }

    [SkippableFact]
    public async Task A_handler_that_cannot_run_here_is_refused_with_its_reason()
    {
        var status = await Runtime.StatusAsync(new StatusRequest { Verbose = true });
        using var handlers = System.Text.Json.JsonDocument.Parse(status.Info["runtimeHandlers"]);
        var crunConfigured = handlers.RootElement.TryGetProperty("crun", out var crun);
        Skip.IfNot(crunConfigured, "no crun handler is configured: no handler that cannot run here to refuse");
        Skip.If(crun.GetProperty("ready").GetBoolean(), "crun runs on this host: nothing to refuse (the lifecycle tests cover ready handlers)");
        var reason = crun.GetProperty("reason").GetString()!;
        var ex = await FailsAsync(StatusCode.FailedPrecondition, "crun", () =>
            Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = Pods.PodConfig("crun"), RuntimeHandler = "crun" }).ResponseAsync);
        Assert.Contains(reason, ex.Status.Detail);
        Assert.DoesNotContain((await Runtime.ListPodSandboxAsync(new ListPodSandboxRequest())).Items, p => p.Metadata.Name == "crun");
    }

    [Fact]
    public async Task Container_requests_are_validated_and_leave_nothing_behind()
    {
        var (podId, pod) = await Pods.RunPodAsync("badcontainers");
        var containersDir = Path.Combine(fixture.Daemon.RootDirectory, "containers");
        var before = Directory.Exists(containersDir) ? Directory.GetDirectories(containersDir).Length : 0;

        async Task Refused(StatusCode code, string mentions, Action<ContainerConfig> breakIt, string? sandboxId = null)
        {
            var config = await Pods.ContainerConfigAsync("c" + Guid.NewGuid().ToString("N")[..6], TestImageNames.Busybox, ["true"], breakIt);
            await FailsAsync(code, mentions, () => Pods.CreateAsync(sandboxId ?? podId, pod, config));
        }

        await Refused(StatusCode.NotFound, "pod sandbox", _ => { }, sandboxId: new string('b', 64));
        await Refused(StatusCode.InvalidArgument, "config.metadata", c => c.Metadata = null);
        await Refused(StatusCode.InvalidArgument, "config.metadata.name", c => c.Metadata.Name = "");
        await Refused(StatusCode.NotFound, "127.0.0.1:1/nope/missing:latest", c => c.Image.Image = "127.0.0.1:1/nope/missing:latest");
        await Refused(StatusCode.InvalidArgument, "host_path", c => c.Mounts.Add(new Mount { ContainerPath = "/data", HostPath = "/nonexistent/crisp/source" }));
        await Refused(StatusCode.InvalidArgument, "host_path", c => c.Mounts.Add(new Mount { ContainerPath = "/data", HostPath = "/tmp/../etc" }));
        await Refused(StatusCode.InvalidArgument, "log_path", c => c.LogPath = "../../escape.log");
        await Refused(StatusCode.InvalidArgument, "memory_limit_in_bytes", c => c.Linux = new LinuxContainerConfig { Resources = new LinuxContainerResources { MemoryLimitInBytes = -1 } });

        var first = await Pods.ContainerConfigAsync("same", TestImageNames.Busybox, ["sleep", "300"]);
        var id = await Pods.CreateAsync(podId, pod, first);
        var ex = await FailsAsync(StatusCode.AlreadyExists, "same", () => Pods.CreateAsync(podId, pod, first));
        Assert.Contains(id, ex.Status.Detail);

        await Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = id });
        await FailsAsync(StatusCode.FailedPrecondition, id, () => Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = id }).ResponseAsync);
        await FailsAsync(StatusCode.NotFound, "container", () => Runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = new string('c', 64) }).ResponseAsync);
        await FailsAsync(StatusCode.InvalidArgument, "cmd", () => Pods.ExecAsync(id, 1));

        var listed = await Runtime.ListContainersAsync(new ListContainersRequest { Filter = new ContainerFilter { PodSandboxId = podId } });
        Assert.Equal(id, Assert.Single(listed.Containers).Id);
        Assert.Equal(before + 1, Directory.GetDirectories(containersDir).Length);

        await Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId });
        await FailsAsync(StatusCode.FailedPrecondition, "not ready", async () =>
            await Pods.CreateAsync(podId, pod, await Pods.ContainerConfigAsync("late", TestImageNames.Busybox, ["true"])));
        await Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId });
        Assert.Equal(before, Directory.GetDirectories(containersDir).Length);
    }
}
