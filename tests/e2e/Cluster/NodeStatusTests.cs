using k8s;
using System.Text.Json;
using Xunit;

namespace Crisp.E2E.Cluster;

/// <summary>What the kubelet reports about a crisp node: allocatable resources (image fs from crisp) and summary stats.</summary>
[Collection(ClusterCollection.Name)]
[Trait("Category", "Cluster")]
public sealed class NodeStatusTests(ClusterFixture cluster)
{
    [SkippableFact]
    public async Task The_node_reports_allocatable_cpu_memory_pods_and_ephemeral_storage()
    {
        Skip.If(cluster.SkipReason is not null, cluster.SkipReason);

        var node = await cluster.Client.CoreV1.ReadNodeAsync(cluster.Pods.NodeName);

        foreach (var resource in new[] { "cpu", "memory", "pods", "ephemeral-storage" })
        {
            Assert.True(node.Status.Allocatable.TryGetValue(resource, out var quantity), $"{node.Metadata.Name} has no allocatable {resource}");
            Assert.True(quantity.ToDecimal() > 0, $"{node.Metadata.Name}: allocatable {resource} is {quantity}");
        }
        Assert.StartsWith("crisp://", node.Status.NodeInfo.ContainerRuntimeVersion);
    }

    [SkippableFact]
    public async Task The_summary_API_reports_the_node_and_a_running_pods_containers()
    {
        Skip.If(cluster.SkipReason is not null, cluster.SkipReason);
        var pod = await cluster.Pods.RunAsync(cluster.Pods.Pod("stats", ClusterPods.Shell("busy", "while true; do :; done")));

        // The kubelet samples every few seconds: wait until the new pod has container CPU figures.
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        JsonElement? entry;
        JsonDocument summary;
        do
        {
            summary = await NodeSummary.ReadAsync(cluster.Client, cluster.Pods.NodeName);
            entry = NodeSummary.Pod(summary, pod.Metadata.Uid);
            if (entry is { } found && HasContainerCpu(found)) break;
            summary.Dispose();
            await Task.Delay(TimeSpan.FromSeconds(2));
        } while (DateTime.UtcNow < deadline);

        using (summary)
        {
            var node = summary.RootElement.GetProperty("node");
            Assert.True(node.GetProperty("cpu").GetProperty("usageNanoCores").GetUInt64() > 0, $"node cpu: {node}");
            Assert.True(node.GetProperty("memory").GetProperty("workingSetBytes").GetUInt64() > 0, $"node memory: {node}");
            Assert.True(node.GetProperty("runtime").GetProperty("imageFs").GetProperty("capacityBytes").GetUInt64() > 0, $"image fs: {node}");
            Assert.True(entry is { } podStats && HasContainerCpu(podStats), $"pod {pod.Metadata.Name} never got container CPU stats in /stats/summary");
            var container = entry.Value.GetProperty("containers").EnumerateArray().Single();
            Assert.Equal("busy", container.GetProperty("name").GetString());
            Assert.True(container.GetProperty("memory").GetProperty("workingSetBytes").GetUInt64() > 0, $"container memory: {container}");
        }
    }

    private static bool HasContainerCpu(JsonElement pod) =>
        pod.TryGetProperty("containers", out var containers) && containers.GetArrayLength() > 0 &&
        containers[0].TryGetProperty("cpu", out var cpu) && cpu.TryGetProperty("usageNanoCores", out var nanoCores) && nanoCores.GetUInt64() > 0;
}
