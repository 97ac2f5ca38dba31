using System.Text;
using Crisp.Cri.V1;
using Crisp.E2E.Daemon;
using Google.Protobuf;

namespace Crisp.E2E.Runtime;

/// <summary>What a kubelet does to run a pod, as small steps tests compose.</summary>
public sealed class PodHelper(CrispDaemon daemon, RuntimeFixture? images)
{
    public RuntimeService.RuntimeServiceClient Runtime => daemon.Runtime;

    public PodSandboxConfig PodConfig(string name, Action<PodSandboxConfig>? configure = null)
    {
        var uid = Guid.NewGuid().ToString("N");
        var config = new PodSandboxConfig
        {
            Metadata = new PodSandboxMetadata { Name = name, Namespace = "e2e", Uid = uid, Attempt = 0 },
            Hostname = name,
            LogDirectory = Path.Combine(daemon.LogDirectory, $"e2e_{name}_{uid}"),
            Linux = new LinuxPodSandboxConfig
            {
                CgroupParent = $"{daemon.PodCgroupRoot}/pod{uid}",
                SecurityContext = new LinuxSandboxSecurityContext
                {
                    NamespaceOptions = new NamespaceOption { Network = NamespaceMode.Pod, Ipc = NamespaceMode.Pod, Pid = NamespaceMode.Container },
                },
            },
            Labels = { ["e2e"] = "runtime", ["pod"] = name },
        };
        configure?.Invoke(config);
        return config;
    }

    public async Task<(string Id, PodSandboxConfig Config)> RunPodAsync(string name, Action<PodSandboxConfig>? configure = null)
    {
        var config = PodConfig(name, configure);
        var response = await Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = config });
        return (response.PodSandboxId, config);
    }

    public async Task<ContainerConfig> ContainerConfigAsync(string name, string imageName, IEnumerable<string>? command, Action<ContainerConfig>? configure = null)
    {
        var reference = await (images ?? throw new InvalidOperationException("no image fixture")).ImageAsync(imageName);
        var config = new ContainerConfig
        {
            Metadata = new ContainerMetadata { Name = name, Attempt = 0 },
            Image = new ImageSpec { Image = reference },
            LogPath = $"{name}/0.log",
            Labels = { ["container"] = name },
        };
        if (command is not null) config.Command.Add(command);
        configure?.Invoke(config);
        return config;
    }

    public async Task<string> CreateAsync(string podId, PodSandboxConfig pod, ContainerConfig config) =>
        (await Runtime.CreateContainerAsync(new CreateContainerRequest { PodSandboxId = podId, Config = config, SandboxConfig = pod })).ContainerId;

    /// <summary>Create + start; returns the container id.</summary>
    public async Task<string> StartAsync(string podId, PodSandboxConfig pod, string name, string imageName, IEnumerable<string>? command, Action<ContainerConfig>? configure = null)
    {
        var config = await ContainerConfigAsync(name, imageName, command, configure);
        var id = await CreateAsync(podId, pod, config);
        await Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = id });
        return id;
    }

    public async Task<ContainerStatus> StatusAsync(string containerId, bool verbose = false) =>
        (await Runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = containerId, Verbose = verbose })).Status;

    public async Task<ContainerStatus> WaitForExitAsync(string containerId, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var status = await StatusAsync(containerId);
            if (status.State == ContainerState.ContainerExited) return status;
            if (DateTime.UtcNow > deadline)
            {
                var exitFile = Path.Combine(daemon.StateDirectory, "exits", containerId);
                var runc = await Crisp.E2E.Fixtures.ToolRunner.RunAsync("runc", ["--root", Path.Combine(daemon.StateDirectory, "runc"), "state", containerId]);
                var output = daemon.Output;
                var bundle = Path.Combine(daemon.StateDirectory, "containers", containerId);
                var conmonLogs = Directory.Exists(bundle)
                    ? string.Join("\n", Directory.GetFiles(bundle, "*.log").Select(f => $"{Path.GetFileName(f)}: {File.ReadAllText(f)}"))
                    : "bundle gone";
                output = $"conmon logs: {conmonLogs}\nbundle files: {(Directory.Exists(bundle) ? string.Join(", ", Directory.GetFileSystemEntries(bundle).Select(Path.GetFileName)) : "")}\n" + output;
                throw new TimeoutException(
                    $"container {containerId} still {status.State} after the timeout; exit file: " +
                    (File.Exists(exitFile) ? $"\"{File.ReadAllText(exitFile)}\"" : "absent") +
                    $"; runc state: {runc.StandardOutput}{runc.StandardError}; crispd output tail:\n{output[..Math.Min(output.Length, 1500)]}");
            }
            await Task.Delay(50);
        }
    }

    /// <summary>Runs a container to its exit; returns its status and what it wrote to stdout and stderr.</summary>
    public async Task<(ContainerStatus Status, string Stdout, string Stderr)> RunToExitAsync(
        string podId, PodSandboxConfig pod, string name, string imageName, IEnumerable<string>? command, Action<ContainerConfig>? configure = null)
    {
        var id = await StartAsync(podId, pod, name, imageName, command, configure);
        var status = await WaitForExitAsync(id);
        var log = File.Exists(status.LogPath) ? await ReadLogAsync(status.LogPath) : [];
        return (status, LogText(log), LogText(log, "stderr"));
    }

    /// <summary>The CRI log file of a container, parsed: (stream, tag, content) per line.</summary>
    public static async Task<IReadOnlyList<(string Stream, string Tag, string Text)>> ReadLogAsync(string path)
    {
        var lines = new List<(string, string, string)>();
        foreach (var line in await File.ReadAllLinesAsync(path))
        {
            var parts = line.Split(' ', 4);
            if (parts.Length < 3) throw new FormatException($"not a CRI log line: \"{line}\"");
            if (!DateTimeOffset.TryParse(parts[0], out _)) throw new FormatException($"bad timestamp in \"{line}\"");
            lines.Add((parts[1], parts[2], parts.Length > 3 ? parts[3] : ""));
        }
        return lines;
    }

    public static string LogText(IEnumerable<(string Stream, string Tag, string Text)> lines, string stream = "stdout") =>
        string.Join("\n", lines.Where(l => l.Stream == stream).Select(l => l.Text));

    public async Task<ExecSyncResponse> ExecAsync(string containerId, long timeoutSeconds, params string[] cmd)
    {
        var request = new ExecSyncRequest { ContainerId = containerId, Timeout = timeoutSeconds };
        request.Cmd.Add(cmd);
        return await Runtime.ExecSyncAsync(request);
    }

    public static string Utf8(ByteString bytes) => Encoding.UTF8.GetString(bytes.Span);

    /// <summary>Stops and removes every pod: what a kubelet's cleanup would do.</summary>
    public static async Task RemoveAllAsync(RuntimeService.RuntimeServiceClient runtime)
    {
        var pods = await runtime.ListPodSandboxAsync(new ListPodSandboxRequest());
        foreach (var pod in pods.Items)
        {
            await runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = pod.Id });
            await runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = pod.Id });
        }
    }
}
