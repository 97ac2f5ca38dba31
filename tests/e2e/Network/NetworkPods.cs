using Crisp.Cri.V1;
using Crisp.E2E.Runtime;
using Grpc.Core;
using Xunit;

namespace Crisp.E2E.Network;

/// <summary>Pod and container steps the network tests share.</summary>
public static class NetworkPods
{
    /// <summary>Serves "&lt;body&gt;\n" at / on port 8080 with busybox httpd.</summary>
    public static string[] HttpServer(string body) =>
        ["sh", "-c", $"mkdir -p /www && echo {body} > /www/index.html && exec httpd -f -p 8080 -h /www"];

    public static readonly string[] Sleeper = ["sleep", "300"];

    public static async Task<string> StartContainerAsync(PodHelper pods, string podId, PodSandboxConfig pod, string name, string image, string[] command)
    {
        var config = new ContainerConfig
        {
            Metadata = new ContainerMetadata { Name = name },
            Image = new ImageSpec { Image = image },
            LogPath = $"{name}/0.log",
        };
        config.Command.Add(command);
        var id = await pods.CreateAsync(podId, pod, config);
        await pods.Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = id });
        return id;
    }

    public static async Task<PodSandboxStatus> StatusAsync(RuntimeService.RuntimeServiceClient runtime, string podId) =>
        (await runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = podId })).Status;

    /// <summary>The pod's IP as a kubelet reads it; "" when it has none.</summary>
    public static async Task<string> IpAsync(RuntimeService.RuntimeServiceClient runtime, string podId) =>
        (await StatusAsync(runtime, podId)).Network?.Ip ?? "";

    /// <summary>Stop + remove; a pod the test already removed is fine.</summary>
    public static async Task RemoveAsync(RuntimeService.RuntimeServiceClient runtime, string podId)
    {
        try
        {
            await runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId });
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            return;
        }
        await runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId });
    }

    /// <summary>Runs the command in the container until it exits 0 (a server may still be starting); returns its stdout.</summary>
    public static async Task<string> ExecUntilSuccessAsync(PodHelper pods, string containerId, string[] command, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            var result = await pods.ExecAsync(containerId, 10, command);
            if (result.ExitCode == 0) return PodHelper.Utf8(result.Stdout);
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException(
                    $"`{string.Join(' ', command)}` in {containerId} still exits {result.ExitCode}: {PodHelper.Utf8(result.Stdout)}{PodHelper.Utf8(result.Stderr)}");
            await Task.Delay(200);
        }
    }

    /// <summary>GET from the host, retrying while the server behind the port is still starting.</summary>
    public static async Task<string> HttpGetFromHostAsync(string url, TimeSpan? timeout = null)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            try
            {
                return await client.GetStringAsync(url);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    public static async Task<RpcException> RunPodFailsAsync(PodHelper pods, string name, Action<PodSandboxConfig>? configure = null) =>
        await Assert.ThrowsAsync<RpcException>(() => pods.RunPodAsync(name, configure));

    public static PortMapping TcpPort(int containerPort, int hostPort) =>
        new() { ContainerPort = containerPort, HostPort = hostPort, Protocol = Protocol.Tcp };
}
