using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Crisp.Cri.V1;
using Grpc.Core;
using Xunit;

namespace Crisp.E2E.Daemon;

/// <summary>The foundation: crispd serves CRI on its socket with the right identity, permissions and errors.</summary>
public sealed class DaemonTests
{
    [Fact]
    public async Task Version_reports_crisp_and_api_v1()
    {
        await using var daemon = await CrispDaemon.StartAsync();
        var version = await daemon.Runtime.VersionAsync(new VersionRequest { Version = "0.1.0" });
        Assert.Equal("crisp", version.RuntimeName);
        Assert.Equal("v1", version.RuntimeApiVersion);
        Assert.Equal("0.1.0", version.Version);
        Assert.Matches(@"^\d+\.\d+\.\d+", version.RuntimeVersion);
    }

    [Fact]
    public async Task Status_reports_runtime_ready_and_network_not_ready_naming_the_cni_dir()
    {
        await using var daemon = await CrispDaemon.StartAsync(new DaemonOptions { CniConfig = null });
        var status = await daemon.Runtime.StatusAsync(new StatusRequest { Verbose = true });

        var runtimeReady = status.Status.Conditions.Single(c => c.Type == "RuntimeReady");
        Assert.True(runtimeReady.Status, runtimeReady.Message);
        var networkReady = status.Status.Conditions.Single(c => c.Type == "NetworkReady");
        Assert.False(networkReady.Status);
        Assert.Equal("NetworkPluginNotReady", networkReady.Reason);
        Assert.Contains(daemon.CniConfDir, networkReady.Message);

        // The default handler is listed under "" (what a pod without RuntimeClass names) with runc's features,
        // user namespaces included; a handler that cannot run here (crun on this host) advertises nothing.
        var runc = Assert.Single(status.RuntimeHandlers, h => h.Name == "runc");
        var defaultHandler = Assert.Single(status.RuntimeHandlers, h => h.Name == "");
        Assert.Equal(runc.Features, defaultHandler.Features);
        Assert.True(runc.Features.RecursiveReadOnlyMounts);
        Assert.True(runc.Features.UserNamespaces);
        var readiness = JsonDocument.Parse(status.Info["runtimeHandlers"]).RootElement;
        Assert.All(status.RuntimeHandlers.Where(h => h.Name.Length > 0 && !readiness.GetProperty(h.Name).GetProperty("ready").GetBoolean()),
            h => Assert.False(h.Features.UserNamespaces, h.Name));
        using var config = JsonDocument.Parse(status.Info["config"]);
        Assert.Equal(daemon.SocketPath, config.RootElement.GetProperty("grpc").GetProperty("socket").GetString());
        Assert.Equal(daemon.RootDirectory, config.RootElement.GetProperty("root").GetString());
    }

    [Fact]
    public async Task The_first_Status_answered_reports_the_probed_handlers_not_their_unprobed_state()
    {
        // crispd serves while it still probes its runtime handlers: the very first Status must wait for the verdict.
        await using var daemon = await CrispDaemon.StartAsync(new DaemonOptions { WaitUntilServing = false });
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        StatusResponse? status = null;
        while (status is null)
        {
            Assert.True(DateTime.UtcNow < deadline, $"crispd did not answer Status within 60 s:\n{daemon.Output}");
            try { status = await daemon.Runtime.StatusAsync(new StatusRequest(), deadline: DateTime.UtcNow.AddSeconds(30)); }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable) { await Task.Delay(2); }
        }

        var runtimeReady = status.Status.Conditions.Single(c => c.Type == "RuntimeReady");
        Assert.True(runtimeReady.Status, runtimeReady.Message);
        Assert.True(Assert.Single(status.RuntimeHandlers, h => h.Name == "runc").Features.RecursiveReadOnlyMounts);
    }

    [Fact]
    public async Task Status_turns_network_ready_once_a_valid_cni_config_exists()
    {
        await using var daemon = await CrispDaemon.StartAsync(new DaemonOptions { CniConfig = null });
        File.WriteAllText(Path.Combine(daemon.CniConfDir, "10-broken.conflist"), "{ not json");
        File.WriteAllText(Path.Combine(daemon.CniConfDir, "20-net.conflist"),
            """{"cniVersion":"1.0.0","name":"crisp-test","plugins":[{"type":"loopback"}]}""");

        var status = await daemon.Runtime.StatusAsync(new StatusRequest());
        Assert.True(status.Status.Conditions.Single(c => c.Type == "NetworkReady").Status);
    }

    /// <summary>sd_booted(3): systemd is PID 1 exactly when this is a directory.</summary>
    private static bool SystemdBooted => new DirectoryInfo("/run/systemd/system") is { Exists: true, LinkTarget: null };

    [Fact]
    public async Task RuntimeConfig_reports_the_configured_cgroup_driver()
    {
        await using var daemon = await CrispDaemon.StartAsync();
        var config = await daemon.Runtime.RuntimeConfigAsync(new RuntimeConfigRequest());
        Assert.Equal(CgroupDriver.Cgroupfs, config.Linux.CgroupDriver);
    }

    [SkippableFact]
    public async Task RuntimeConfig_reports_the_systemd_driver_on_a_systemd_host()
    {
        Skip.IfNot(SystemdBooted, "systemd is not the init system here (no /run/systemd/system)");
        await using var daemon = await CrispDaemon.StartAsync(new DaemonOptions { Flags = ["--runtime-cgroup-driver", "systemd"] });
        var config = await daemon.Runtime.RuntimeConfigAsync(new RuntimeConfigRequest());
        Assert.Equal(CgroupDriver.Systemd, config.Linux.CgroupDriver);
    }

    [SkippableFact]
    public async Task The_systemd_cgroup_driver_refuses_to_start_where_systemd_is_not_init()
    {
        Skip.If(SystemdBooted, "systemd is the init system here");
        await using var daemon = await CrispDaemon.StartAsync();
        var (exitCode, output) = await CrispDaemon.RunToExitAsync(
            ["--config", daemon.ConfigPath, "--runtime-cgroup-driver", "systemd"], TimeSpan.FromSeconds(60));
        Assert.Equal(1, exitCode);
        Assert.Contains("/run/systemd/system", output);
        Assert.Contains("cgroup_driver", output);
        // Refused before touching the socket: the running daemon is untouched.
        await daemon.Runtime.VersionAsync(new VersionRequest());
    }

    [Fact]
    public async Task An_unimplemented_rpc_answers_unimplemented_naming_the_rpc()
    {
        await using var daemon = await CrispDaemon.StartAsync();
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await daemon.Runtime.CheckpointContainerAsync(new CheckpointContainerRequest { ContainerId = "abc" }));
        Assert.Equal(StatusCode.Unimplemented, error.StatusCode);
        Assert.Contains("runtime.v1.RuntimeService/CheckpointContainer", error.Status.Detail);
    }

    [Fact]
    public async Task Socket_directory_is_private_and_socket_is_owner_and_group_only()
    {
        await using var daemon = await CrispDaemon.StartAsync();
        var directoryMode = File.GetUnixFileMode(Path.GetDirectoryName(daemon.SocketPath)!);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, directoryMode);
        var socketMode = File.GetUnixFileMode(daemon.SocketPath);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite, socketMode);
    }

    [Fact]
    public async Task A_second_crispd_on_the_same_socket_refuses_to_start()
    {
        await using var daemon = await CrispDaemon.StartAsync();
        var (exitCode, output) = await CrispDaemon.RunToExitAsync(["--config", daemon.ConfigPath], TimeSpan.FromSeconds(60));
        Assert.NotEqual(0, exitCode);
        Assert.Contains("already serving", output);
        // The first daemon is untouched.
        await daemon.Runtime.VersionAsync(new VersionRequest());
    }

    [Fact]
    public async Task A_stale_socket_file_is_replaced()
    {
        var directory = Directory.CreateTempSubdirectory("crisp-stale-").FullName;
        try
        {
            var socketPath = Path.Combine(directory, "state", "crisp.sock");
            Directory.CreateDirectory(Path.GetDirectoryName(socketPath)!);
            // Bound but never listening, like the socket file a killed daemon leaves: connecting is refused.
            // (Kept open: .NET deletes the file when the socket that bound it is disposed.)
            using var orphan = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            orphan.Bind(new UnixDomainSocketEndPoint(socketPath));
            Assert.True(File.Exists(socketPath));
            await using var daemon = await CrispDaemon.StartAsync(new DaemonOptions { SocketPath = socketPath });
            using var client = new CriClient(socketPath);
            var version = await client.Runtime.VersionAsync(new VersionRequest());
            Assert.Equal("crisp", version.RuntimeName);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task A_bad_config_file_fails_start_naming_the_file_and_key()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "[image]\nmax_concurrent_downloads = 0\n");
            var (exitCode, output) = await CrispDaemon.RunToExitAsync(["--config", file], TimeSpan.FromSeconds(60));
            Assert.Equal(2, exitCode);
            Assert.Contains(file, output);
            Assert.Contains("image.max_concurrent_downloads", output);

            File.WriteAllText(file, "[grpc]\nsocket_path = \"/tmp/x.sock\"\n");
            (exitCode, output) = await CrispDaemon.RunToExitAsync(["--config", file], TimeSpan.FromSeconds(60));
            Assert.Equal(2, exitCode);
            Assert.Contains("unknown key \"grpc.socket_path\"", output);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Sigterm_stops_the_daemon_cleanly()
    {
        var daemon = await CrispDaemon.StartAsync();
        await using (daemon)
        {
            await daemon.StopAsync(TimeSpan.FromSeconds(20));
            Assert.Equal(0, daemon.ExitCode);
        }
    }

    [Fact]
    public async Task Prometheus_endpoint_counts_rpcs_per_method()
    {
        var port = FreePort();
        await using var daemon = await CrispDaemon.StartAsync(new DaemonOptions
        {
            Flags = ["--metrics-prometheus-address", $"127.0.0.1:{port}"],
        });
        await daemon.Runtime.VersionAsync(new VersionRequest());
        using var http = new HttpClient();
        string body = "";
        for (var attempt = 0; attempt < 20 && !body.Contains("Version"); attempt++)
        {
            await Task.Delay(250);
            body = await http.GetStringAsync($"http://127.0.0.1:{port}/metrics");
        }
        Assert.Contains("crisp_rpc_requests", body);
        Assert.Contains("runtime.v1.RuntimeService/Version", body);
        Assert.Contains("crisp_rpc_duration", body);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
