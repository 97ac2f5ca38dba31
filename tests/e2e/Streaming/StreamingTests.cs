using System.Net;
using System.Text;
using System.Text.Json;
using Crisp.Cri.V1;
using Crisp.E2E.Fixtures;
using Crisp.E2E.Runtime;
using Grpc.Core;
using Xunit;

namespace Crisp.E2E.Streaming;

/// <summary>Exec, attach and port-forward through the URLs the CRI RPCs return, as a kubelet's proxy would use them.</summary>
[Collection(RuntimeCollection.Name)]
public sealed class StreamingTests(RuntimeFixture fixture)
{
    private const byte Stdin = 0, Stdout = 1, Stderr = 2, Error = 3, Resize = 4;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private PodHelper Pods => fixture.Pods;

    private async Task<(string PodId, string ContainerId)> RunningContainerAsync(string name, string[]? command = null, Action<ContainerConfig>? configure = null)
    {
        var (podId, pod) = await Pods.RunPodAsync(name);
        var id = await Pods.StartAsync(podId, pod, "main", TestImageNames.Busybox, command ?? ["sleep", "3600"], configure);
        return (podId, id);
    }

    private async Task<string> ExecUrlAsync(string containerId, bool stdin, bool stdout, bool stderr, bool tty, params string[] cmd)
    {
        var request = new ExecRequest { ContainerId = containerId, Stdin = stdin, Stdout = stdout, Stderr = stderr, Tty = tty };
        request.Cmd.Add(cmd);
        return (await fixture.Runtime.ExecAsync(request)).Url;
    }

    private JsonElement Status(ChannelClient client)
    {
        var text = client.Text(Error);
        if (text.Length == 0)
        {
            var output = fixture.Daemon.Output;
            throw new Xunit.Sdk.XunitException(
                $"no status on the error channel; the client saw {client.Trace}; crispd output tail:\n{output[Math.Max(0, output.Length - 3000)..]}");
        }
        return JsonDocument.Parse(text).RootElement;
    }

    [Fact]
    public async Task Exec_streams_stdout_and_stderr_and_reports_the_exit_code()
    {
        var (_, id) = await RunningContainerAsync("exec-out");
        var url = await ExecUrlAsync(id, false, true, true, false, "sh", "-c", "echo out-line; echo err-line >&2; exit 3");
        Assert.StartsWith("http://127.0.0.1:", url);

        await using var client = await ChannelClient.ConnectAsync(url, "v4.channel.k8s.io");
        await client.WaitForCloseAsync(Timeout);
        Assert.Equal("v4.channel.k8s.io", client.Protocol);
        Assert.Equal("out-line\n", client.Text(Stdout));
        Assert.Equal("err-line\n", client.Text(Stderr));
        var status = Status(client);
        Assert.Equal("Failure", status.GetProperty("status").GetString());
        Assert.Equal("NonZeroExitCode", status.GetProperty("reason").GetString());
        Assert.Equal("3", status.GetProperty("details").GetProperty("causes")[0].GetProperty("message").GetString());
    }

    [Fact]
    public async Task Exec_success_reports_success()
    {
        var (_, id) = await RunningContainerAsync("exec-ok");
        var url = await ExecUrlAsync(id, false, true, false, false, "echo", "fine");
        await using var client = await ChannelClient.ConnectAsync(url, "v4.channel.k8s.io");
        await client.WaitForCloseAsync(Timeout);
        Assert.Equal("fine\n", client.Text(Stdout));
        Assert.Equal("Success", Status(client).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Exec_feeds_stdin_until_the_client_closes_it()
    {
        var (_, id) = await RunningContainerAsync("exec-stdin");
        var url = await ExecUrlAsync(id, true, true, false, false, "sh", "-c", "tr a-z A-Z");
        await using var client = await ChannelClient.ConnectAsync(url, "v5.channel.k8s.io");
        await client.SendAsync(Stdin, "hello stdin\n");
        await client.CloseChannelAsync(Stdin);
        await client.WaitForCloseAsync(Timeout);
        Assert.Equal("HELLO STDIN\n", client.Text(Stdout));
        Assert.Equal("Success", Status(client).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Exec_takes_stdin_messages_larger_than_any_buffer()
    {
        var (_, id) = await RunningContainerAsync("exec-big");
        var url = await ExecUrlAsync(id, true, true, false, false, "wc", "-c");
        await using var client = await ChannelClient.ConnectAsync(url, "v5.channel.k8s.io");
        await client.SendAsync(Stdin, new byte[300 * 1024]);
        await client.SendAsync(Stdin, new byte[5]);
        await client.CloseChannelAsync(Stdin);
        await client.WaitForCloseAsync(Timeout);
        Assert.Equal((300 * 1024 + 5).ToString(System.Globalization.CultureInfo.InvariantCulture), client.Text(Stdout).Trim());
    }

    [Fact]
    public async Task Exec_with_a_tty_gets_a_terminal_of_the_size_the_client_sets()
    {
        var (_, id) = await RunningContainerAsync("exec-tty");
        var url = await ExecUrlAsync(id, true, true, false, true, "sh", "-c", "sleep 1; stty size; [ -t 0 ] && echo is-a-tty");
        await using var client = await ChannelClient.ConnectAsync(url, "v5.channel.k8s.io");
        await client.SendAsync(Resize, """{"Width":123,"Height":45}""");
        await client.WaitForCloseAsync(Timeout);
        var output = client.Text(Stdout);
        Assert.Contains("45 123", output);
        Assert.Contains("is-a-tty", output);
        Assert.Equal("", client.Text(Stderr));
    }

    [Fact]
    public async Task Attach_connects_to_the_containers_own_stdio()
    {
        var (_, id) = await RunningContainerAsync("attach", ["sh", "-c", "while read line; do echo got:$line; done"], c => c.Stdin = true);
        var response = await fixture.Runtime.AttachAsync(new AttachRequest { ContainerId = id, Stdin = true, Stdout = true, Stderr = true });
        await using var client = await ChannelClient.ConnectAsync(response.Url, "v5.channel.k8s.io");
        await client.SendAsync(Stdin, "ping\n");
        await client.WaitForTextAsync(Stdout, "got:ping", Timeout);
    }

    [Fact]
    public async Task Attach_with_stdin_to_a_container_without_stdin_is_refused()
    {
        var (_, id) = await RunningContainerAsync("attach-no-stdin");
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await fixture.Runtime.AttachAsync(new AttachRequest { ContainerId = id, Stdin = true, Stdout = true }));
        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
    }

    [Fact]
    public async Task PortForward_reaches_a_port_inside_the_pod_network_namespace()
    {
        var (podId, _) = await RunningContainerAsync("forward",
            ["sh", "-c", "mkdir -p /www && echo forwarded-body > /www/index.html && exec httpd -f -p 8080 -h /www"]);
        var response = await fixture.Runtime.PortForwardAsync(new PortForwardRequest { PodSandboxId = podId, Port = { 8080 } });

        // httpd may need a moment; each attempt is a fresh forward session, like kubectl port-forward per connection.
        var deadline = DateTime.UtcNow + Timeout;
        string body;
        var url = response.Url;
        while (true)
        {
            await using var client = await ChannelClient.ConnectAsync(url, "portforward.k8s.io", "?port=8080");
            await client.SendAsync(0, "GET /index.html HTTP/1.0\r\nHost: pod\r\n\r\n");
            await client.WaitForCloseAsync(Timeout);
            body = Encoding.UTF8.GetString(client.Bytes(0).Skip(2).ToArray());
            if (body.Contains("forwarded-body", StringComparison.Ordinal)) break;
            Assert.True(DateTime.UtcNow < deadline, $"no answer through the port forward; data: \"{body}\", error: \"{client.Text(1)}\"");
            await Task.Delay(200);
            url = (await fixture.Runtime.PortForwardAsync(new PortForwardRequest { PodSandboxId = podId, Port = { 8080 } })).Url;
        }
        Assert.Contains("200 OK", body);
    }

    [Fact]
    public async Task A_streaming_url_works_once()
    {
        var (_, id) = await RunningContainerAsync("once");
        var url = await ExecUrlAsync(id, false, true, false, false, "true");
        await using (var client = await ChannelClient.ConnectAsync(url, "v4.channel.k8s.io"))
            await client.WaitForCloseAsync(Timeout);
        using var http = new HttpClient();
        var second = await http.GetAsync(url);
        Assert.Equal(HttpStatusCode.NotFound, second.StatusCode);
    }

    [Fact]
    public async Task Exec_requests_that_cannot_run_are_refused_by_the_rpc()
    {
        var unknown = await Assert.ThrowsAsync<RpcException>(() => ExecUrlAsync("no-such-container", false, true, false, false, "true"));
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);

        var (_, id) = await RunningContainerAsync("exec-bad");
        var noCommand = await Assert.ThrowsAsync<RpcException>(() => ExecUrlAsync(id, false, true, false, false));
        Assert.Equal(StatusCode.InvalidArgument, noCommand.StatusCode);

        await fixture.Runtime.StopContainerAsync(new StopContainerRequest { ContainerId = id, Timeout = 0 });
        var stopped = await Assert.ThrowsAsync<RpcException>(() => ExecUrlAsync(id, false, true, false, false, "true"));
        Assert.Equal(StatusCode.FailedPrecondition, stopped.StatusCode);
    }

    [Fact]
    public async Task A_client_offering_no_known_protocol_is_refused_with_the_supported_list()
    {
        var (_, id) = await RunningContainerAsync("protocol");
        var url = await ExecUrlAsync(id, false, true, false, false, "true");
        var error = await Assert.ThrowsAsync<System.Net.WebSockets.WebSocketException>(() => ChannelClient.ConnectAsync(url, "v9.channel.k8s.io"));
        Assert.Contains("403", error.Message + error.InnerException?.Message);
    }
}
