using System.Text.Json;
using k8s;

namespace Crisp.E2E.Cluster;

/// <summary>The kubelet's /stats/summary of a node, through the API server's node proxy (what metrics-server reads).</summary>
public static class NodeSummary
{
    public static async Task<JsonDocument> ReadAsync(IKubernetes client, string node)
    {
        await using var stream = await client.CoreV1.ConnectGetNodeProxyWithPathAsync(node, "stats/summary");
        return await JsonDocument.ParseAsync(stream);
    }

    /// <summary>The summary's entry for the pod with <paramref name="uid"/>, or null when the node reports none.</summary>
    public static JsonElement? Pod(JsonDocument summary, string uid)
    {
        if (!summary.RootElement.TryGetProperty("pods", out var pods)) return null;
        foreach (var pod in pods.EnumerateArray())
        {
            if (pod.GetProperty("podRef").GetProperty("uid").GetString() == uid) return pod;
        }
        return null;
    }
}
