using k8s.Models;
using Xunit;

namespace Crisp.E2E.Cluster;

/// <summary>A pod with an init container and two containers, driven through the API server: order, logs, exec, deletion.</summary>
[Collection(ClusterCollection.Name)]
[Trait("Category", "Cluster")]
public sealed class PodContainersTests(ClusterFixture cluster)
{
    private V1Pod InitAndTwoContainers()
    {
        var pod = cluster.Pods.Pod("multi",
            ClusterPods.Shell("reader", "cat /shared/from-init; echo reader-started; exec sleep 3600"),
            ClusterPods.Shell("sidecar", "echo sidecar-started; exec sleep 3600"));
        pod.Spec.InitContainers = [ClusterPods.Shell("init", "echo written-by-init > /shared/from-init")];
        var shared = new V1VolumeMount { Name = "shared", MountPath = "/shared" };
        foreach (var container in pod.Spec.InitContainers.Concat(pod.Spec.Containers)) container.VolumeMounts = [shared];
        pod.Spec.Volumes = [new V1Volume { Name = "shared", EmptyDir = new V1EmptyDirVolumeSource() }];
        return pod;
    }

    [SkippableFact]
    public async Task The_init_container_completes_first_and_both_containers_log_and_exec_through_the_API_server()
    {
        Skip.If(cluster.SkipReason is not null, cluster.SkipReason);

        var pod = await cluster.Pods.RunAsync(InitAndTwoContainers());
        var name = pod.Metadata.Name;

        var init = Assert.Single(pod.Status.InitContainerStatuses);
        Assert.Equal(0, init.State.Terminated?.ExitCode);
        Assert.Equal(["reader", "sidecar"], pod.Status.ContainerStatuses.Select(c => c.Name).Order(StringComparer.Ordinal));
        // The reader saw the init container's file: it ran to completion before the reader started.
        var readerLog = await cluster.Pods.WaitForLogAsync(name, "reader", "reader-started");
        Assert.StartsWith("written-by-init\n", readerLog);
        Assert.Equal("sidecar-started\n", await cluster.Pods.WaitForLogAsync(name, "sidecar", "sidecar-started"));

        var (exitCode, stdout, stderr) = await cluster.Pods.ExecAsync(name, "sidecar", "sh", "-c", "echo $((6 * 7)); echo to-stderr >&2; exit 3");

        Assert.Equal(3, exitCode);
        Assert.Equal("42\n", stdout);
        Assert.Equal("to-stderr\n", stderr);
        var (_, shared, _) = await cluster.Pods.ExecAsync(name, "sidecar", "cat", "/shared/from-init");
        Assert.Equal("written-by-init\n", shared);
    }

    [SkippableFact]
    public async Task Deleting_a_pod_leaves_no_sandbox_or_container_on_the_node()
    {
        Skip.If(cluster.SkipReason is not null, cluster.SkipReason);
        var pod = await cluster.Pods.RunAsync(InitAndTwoContainers());
        var uid = pod.Metadata.Uid;

        await cluster.Pods.DeleteAsync(pod.Metadata.Name);

        // The kubelet removes a deleted pod's exited containers and sandbox in its next garbage collection (every minute).
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        var left = await NodeContainers.LeftForPodAsync(cluster.Client, cluster.Pods.NodeName, uid);
        while (left.Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(TimeSpan.FromSeconds(5));
            left = await NodeContainers.LeftForPodAsync(cluster.Client, cluster.Pods.NodeName, uid);
        }
        Assert.True(left.Count == 0,
            $"3 minutes after pod {pod.Metadata.Name} ({uid}) was deleted, {cluster.Pods.NodeName} still has:\n{string.Join('\n', left)}");
    }
}
