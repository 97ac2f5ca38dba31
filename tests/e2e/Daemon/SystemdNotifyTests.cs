using System.Net.Sockets;
using System.Text;
using Crisp.Cri.V1;
using Xunit;

namespace Crisp.E2E.Daemon;

/// <summary>
/// Type=notify as systemd runs it: NOTIFY_SOCKET names a datagram socket, and READY=1 must arrive only once the CRI
/// socket answers, since systemd then starts the units ordered After=crisp.service (the kubelet); children never see it.
/// </summary>
public sealed class SystemdNotifyTests
{
    [Fact]
    public async Task READY_is_sent_once_the_CRI_socket_answers_and_STOPPING_on_SIGTERM()
    {
        var dir = Directory.CreateTempSubdirectory("crisp-notify-").FullName;
        var notifyPath = Path.Combine(dir, "notify.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(notifyPath));
        // A "runtime" that records the environment crispd gives its children (the handler probe runs it at start).
        var envDump = Path.Combine(dir, "child.env");
        var recorder = Path.Combine(dir, "env-recorder");
        await File.WriteAllTextAsync(recorder, $"#!/bin/sh\nenv > {envDump}\nexit 1\n");
        File.SetUnixFileMode(recorder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await using var daemon = await CrispDaemon.StartAsync(new DaemonOptions
        {
            Environment = new Dictionary<string, string> { ["NOTIFY_SOCKET"] = notifyPath },
            Flags = ["--runtime-handler", "runc=runc", "--runtime-handler", $"recorder={recorder}"],
            WaitUntilServing = false,
        });

        var ready = await ReceiveAsync(listener, TimeSpan.FromSeconds(60), daemon);
        // At the moment READY=1 arrives the socket already serves: no retry, no wait.
        var version = await daemon.Runtime.VersionAsync(new VersionRequest(), deadline: DateTime.UtcNow.AddSeconds(5));

        Assert.Contains("READY=1", ready.Split('\n'));
        Assert.Contains($"MAINPID={daemon.ProcessId}", ready.Split('\n'));
        Assert.Equal("crisp", version.RuntimeName);
        // runc given NOTIFY_SOCKET would proxy the container's sd_notify and hold `runc start` waiting for it.
        var childEnvironment = await File.ReadAllTextAsync(envDump);
        Assert.Contains("PATH=", childEnvironment);
        Assert.DoesNotContain("NOTIFY_SOCKET", childEnvironment);

        daemon.Reload();
        Assert.Contains("RELOADING=1", (await ReceiveAsync(listener, TimeSpan.FromSeconds(20), daemon)).Split('\n'));
        Assert.Contains("READY=1", (await ReceiveAsync(listener, TimeSpan.FromSeconds(20), daemon)).Split('\n'));

        await daemon.StopAsync();
        Assert.Contains("STOPPING=1", (await ReceiveAsync(listener, TimeSpan.FromSeconds(5), daemon)).Split('\n'));
        Directory.Delete(dir, recursive: true);
    }

    private static async Task<string> ReceiveAsync(Socket listener, TimeSpan timeout, CrispDaemon daemon)
    {
        var buffer = new byte[4096];
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            var received = await listener.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            return Encoding.UTF8.GetString(buffer, 0, received);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no sd_notify message within {timeout}:\n{daemon.Output}");
        }
    }
}
