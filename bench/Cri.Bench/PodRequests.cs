using Crisp.Cri.V1;
using Crisp.E2E.Daemon;

namespace Crisp.Bench;

/// <summary>
/// CRI requests shaped like a kubelet's (as the e2e PodHelper builds them): a host-network pod so no CNI is
/// involved, and one busybox container running <c>sleep 3600</c>.
/// </summary>
public sealed class PodRequests(CriTarget target, string imageReference, string cgroupParent)
{
    public PodRequests(CrispDaemon daemon, string imageReference, string cgroupParent)
        : this(new CrispTarget(daemon), imageReference, cgroupParent)
    {
    }

    /// <summary>Every pod the bench makes carries this label; cleanup removes those and no other.</summary>
    public const string BenchLabel = "bench";

    public PodSandboxConfig PodConfig(string name)
    {
        var uid = Guid.NewGuid().ToString("N");
        var logDirectory = Path.Combine(target.LogDirectory, $"bench_{name}_{uid}");
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
            Labels = { [BenchLabel] = "lifecycle" },
        };
    }

    public async Task<(string Id, PodSandboxConfig Config)> RunPodAsync(string name, CancellationToken cancellationToken)
    {
        var config = PodConfig(name);
        var response = await target.Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = config }, cancellationToken: cancellationToken);
        return (response.PodSandboxId, config);
    }

    public ContainerConfig ContainerConfig(string name = "app") => new()
    {
        Metadata = new ContainerMetadata { Name = name, Attempt = 0 },
        Image = new ImageSpec { Image = imageReference },
        Command = { "sleep", "3600" },
        LogPath = $"{name}/0.log",
    };

    public Task<string> CreateContainerAsync(string podId, PodSandboxConfig pod, CancellationToken cancellationToken) =>
        CreateContainerAsync(podId, pod, ContainerConfig(), cancellationToken);

    public async Task<string> CreateContainerAsync(string podId, PodSandboxConfig pod, ContainerConfig config, CancellationToken cancellationToken)
    {
        // The kubelet creates each container's log directory too; not every runtime does it for it.
        Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(pod.LogDirectory, config.LogPath))!);
        return (await target.Runtime.CreateContainerAsync(
            new CreateContainerRequest { PodSandboxId = podId, Config = config, SandboxConfig = pod },
            cancellationToken: cancellationToken)).ContainerId;
    }
}
