using System.Text;
using k8s;
using Xunit;

namespace Crisp.E2E.Cluster;

/// <summary>kubectl port-forward's path: API server, kubelet, crisp's streaming server, into the pod's network namespace.</summary>
[Collection(ClusterCollection.Name)]
[Trait("Category", "Cluster")]
public sealed class PortForwardTests(ClusterFixture cluster)
{
    private const int Port = 8080;

    [SkippableFact]
    public async Task A_port_forward_reaches_a_server_listening_inside_the_pod()
    {
        Skip.If(cluster.SkipReason is not null, cluster.SkipReason);
        var pod = await cluster.Pods.RunAsync(cluster.Pods.Pod("forward", ClusterPods.Shell("web",
            $"mkdir -p /tmp/www && echo served-by-crisp-pod > /tmp/www/index.html && exec httpd -f -p {Port} -h /tmp/www")));
        // httpd binds a moment after its container starts: a forward before that gets the connection closed.
        var response = "";
        for (var attempt = 0; attempt < 10 && !response.Contains("served-by-crisp-pod", StringComparison.Ordinal); attempt++)
        {
            if (attempt > 0) await Task.Delay(TimeSpan.FromSeconds(1));
            response = await GetThroughPortForwardAsync(pod.Metadata.Name);
        }

        Assert.StartsWith("HTTP/1.", response);
        Assert.Contains("served-by-crisp-pod", response);
    }

    private async Task<string> GetThroughPortForwardAsync(string pod)
    {
        using var webSocket = await cluster.Client.WebSocketNamespacedPodPortForwardAsync(pod, cluster.Namespace, [Port], "v4.channel.k8s.io");
        using var demuxer = new StreamDemuxer(webSocket, StreamType.PortForward);
        demuxer.Start();
        await using var stream = demuxer.GetStream((byte?)0, (byte?)0);
        await stream.WriteAsync(Encoding.ASCII.GetBytes("GET /index.html HTTP/1.0\r\nHost: localhost\r\n\r\n"));

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var response = new StringBuilder();
        var buffer = new byte[4096];
        while (!response.ToString().Contains("served-by-crisp-pod", StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer, timeout.Token);
            if (read == 0) break;
            response.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }
        return response.ToString();
    }
}
