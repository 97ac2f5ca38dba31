using Crisp.Cri.V1;
using Crisp.E2E.Daemon;
using k8s;

namespace Crisp.E2E.Cluster;

/// <summary>
/// What crisp on the node still holds for a pod. Asked over crisp's own CRI socket when the tests run on that very
/// node (as crictl would), else judged from the node's /stats/summary, whose pod list the kubelet builds from
/// crisp's ListPodSandbox and ListContainerStats.
/// </summary>
public static class NodeContainers
{
    private const string PodUidLabel = "io.kubernetes.pod.uid";

    public static bool ReachableLocally(string node) =>
        File.Exists(ClusterSettings.CriSocket) && string.Equals(Environment.MachineName, node.Split('.')[0], StringComparison.OrdinalIgnoreCase);

    /// <summary>A description of each sandbox and container crisp still has for the pod; empty when none is left.</summary>
    public static async Task<IReadOnlyList<string>> LeftForPodAsync(IKubernetes client, string node, string podUid)
    {
        if (ReachableLocally(node))
        {
            using var cri = new CriClient(ClusterSettings.CriSocket);
            var containers = await cri.Runtime.ListContainersAsync(new ListContainersRequest
            {
                Filter = new ContainerFilter { LabelSelector = { [PodUidLabel] = podUid } },
            });
            var sandboxes = await cri.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest
            {
                Filter = new PodSandboxFilter { LabelSelector = { [PodUidLabel] = podUid } },
            });
            return
            [
                .. containers.Containers.Select(c => $"container {c.Metadata.Name} {c.Id} {c.State} (crisp socket {ClusterSettings.CriSocket})"),
                .. sandboxes.Items.Select(s => $"sandbox {s.Id} {s.State} (crisp socket {ClusterSettings.CriSocket})"),
            ];
        }
        using var summary = await NodeSummary.ReadAsync(client, node);
        return NodeSummary.Pod(summary, podUid) is { } pod ? [$"pod in {node}'s /stats/summary: {pod}"] : [];
    }
}
