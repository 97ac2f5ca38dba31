using Crisp.Cri.V1;
using Crisp.E2E.Daemon;

namespace Crisp.Bench;

/// <summary>
/// CRI requests shaped like a kubelet's (as the e2e PodHelper builds them): a host-network pod so no CNI is
/// involved, and one busybox container running <c>sleep 3600</c>.
/// </summary>
public sealed class PodRequests(CrispDaemon daemon, string imageReference, string cgroupParent)
{
    public PodSandboxConfig PodConfig(string name)
    {
        var uid = Guid.NewGuid().ToString("N");
        var logDirectory = Path.Combine(daemon.LogDirectory, $"bench_{name}_{uid}");
        // The kubelet creates the pod's log directory before it asks for the sandbox.
        Directory.CreateDirectory(logDirectory);
        return new PodSandboxConfig
        {
            Metadata = new PodSandboxMetadata { Name = name, Namespace = "bench", Uid = uid, Attempt = 0 },
            LogDirectory = logDirectory,
            Linux = new LinuxPodSandboxConfig
            {
                CgroupParent = $"{cgroupParent}/pod{uid}",
                SecurityContext = new LinuxSandboxSecurityContext
                {
                    NamespaceOptions = new NamespaceOption { Network = NamespaceMode.Node, Ipc = NamespaceMode.Pod, Pid = NamespaceMode.Container },
                },
            },
            Labels = { ["bench"] = "lifecycle" },
        };
    }

    public async Task<(string Id, PodSandboxConfig Config)> RunPodAsync(string name, CancellationToken cancellationToken)
    {
        var config = PodConfig(name);
        var response = await daemon.Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = config }, cancellationToken: cancellationToken);
        return (response.PodSandboxId, config);
    }

    public ContainerConfig ContainerConfig() => new()
    {
        Metadata = new ContainerMetadata { Name = "app", Attempt = 0 },
        Image = new ImageSpec { Image = imageReference },
        Command = { "sleep", "3600" },
        LogPath = "app/0.log",
    };

    public async Task<string> CreateContainerAsync(string podId, PodSandboxConfig pod, CancellationToken cancellationToken) =>
        (await daemon.Runtime.CreateContainerAsync(
            new CreateContainerRequest { PodSandboxId = podId, Config = ContainerConfig(), SandboxConfig = pod },
            cancellationToken: cancellationToken)).ContainerId;
}
