using Crisp.Cri.V1;
using Crisp.E2E.Daemon;
using Crisp.E2E.Fixtures;
using Crisp.E2E.Runtime;
using Xunit;

namespace Crisp.E2E.UserNamespaces;

/// <summary>
/// A hostUsers:false pod as the kubelet sends it (userns_options mode POD, container 0 → host 65536·N, length 65536):
/// container root is an unprivileged host id, its rootfs and an idmapped hostPath volume show the right owners
/// without any chown of the image or the volume, and a kill -9 of crispd changes nothing.
/// </summary>
public sealed class UserNamespacePodTests
{
    private const uint Length = 65536;

    internal static UserNamespace PodMapping(uint hostId) => new()
    {
        Mode = NamespaceMode.Pod,
        Uids = { new IDMapping { ContainerId = 0, HostId = hostId, Length = Length } },
        Gids = { new IDMapping { ContainerId = 0, HostId = hostId, Length = Length } },
    };

    [Fact]
    public async Task Container_root_is_a_high_host_id_sees_idmapped_files_and_survives_a_kill_9()
    {
        var (daemon, pods, image) = await StartDaemonAsync();
        await using var _ = daemon;

        var hostId = Length * (uint)Random.Shared.Next(100, 1000);
        var (podId, pod) = await pods.RunPodAsync("userns", p => p.Linux.SecurityContext.NamespaceOptions.UsernsOptions = PodMapping(hostId));
        var volume = Directory.CreateTempSubdirectory("crisp-e2e-userns-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(volume, "from-host"), "host\n");
            var config = new ContainerConfig
            {
                Metadata = new ContainerMetadata { Name = "root-inside" },
                Image = new ImageSpec { Image = image },
                LogPath = "root-inside/0.log",
                Command = { "sh", "-c", "echo rootfs > /written-in-rootfs && echo volume > /data/written-in-volume && exec sleep 300" },
                Mounts =
                {
                    new Mount
                    {
                        ContainerPath = "/data",
                        HostPath = volume,
                        UidMappings = { pod.Linux.SecurityContext.NamespaceOptions.UsernsOptions.Uids },
                        GidMappings = { pod.Linux.SecurityContext.NamespaceOptions.UsernsOptions.Gids },
                    },
                },
                Linux = new LinuxContainerConfig
                {
                    SecurityContext = new LinuxContainerSecurityContext { NamespaceOptions = pod.Linux.SecurityContext.NamespaceOptions.Clone() },
                },
            };
            var containerId = await pods.CreateAsync(podId, pod, config);
            await daemon.Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = containerId });
            var upperFile = Path.Combine(daemon.RootDirectory, "containers", containerId, "upper", "written-in-rootfs");
            var volumeFile = Path.Combine(volume, "written-in-volume");
            await LifecycleTests.WaitUntilAsync(() => File.Exists(upperFile) && File.Exists(volumeFile));

            var pid = RecoveryTests.ContainerPid(await daemon.Runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = containerId, Verbose = true }));
            Assert.Equal([0L, hostId, Length], MapLine(File.ReadAllText($"/proc/{pid}/uid_map")));
            Assert.Equal([0L, hostId, Length], MapLine(File.ReadAllText($"/proc/{pid}/gid_map")));
            Assert.Contains($"Uid:\t{hostId}\t", File.ReadAllText($"/proc/{pid}/status"));

            // What the container writes to its rootfs belongs to its root's host ids; the idmapped volume stores
            // container root as the volume's own root (the mapping inverted), and host files keep their owner.
            Assert.Equal($"{hostId} {hostId}", await OwnerAsync(upperFile));
            Assert.Equal("0 0", await OwnerAsync(volumeFile));
            Assert.Equal("0 0", await OwnerAsync(Path.Combine(volume, "from-host")));
            var inside = await pods.ExecAsync(containerId, 10, "stat", "-c", "%u:%g", "/bin/sh", "/data/from-host", "/written-in-rootfs");
            Assert.Equal("0:0\n0:0\n0:0\n", PodHelper.Utf8(inside.Stdout));

            await daemon.KillAsync();
            await daemon.RestartAsync();
            var recovered = Assert.Single((await daemon.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest())).Items);
            Assert.Equal(PodSandboxState.SandboxReady, recovered.State);
            Assert.Equal(ContainerState.ContainerRunning, (await pods.StatusAsync(containerId)).State);
            var exec = await pods.ExecAsync(containerId, 10, "sh", "-c", "cat /proc/self/uid_map; id -u; cat /data/from-host");
            var lines = PodHelper.Utf8(exec.Stdout).Split('\n');
            Assert.Equal([0L, hostId, Length], MapLine(lines[0]));
            Assert.Equal("0", lines[1]);
            Assert.Equal("host", lines[2]);

            // A second container of the pod joins the same user namespace.
            var siblingConfig = new ContainerConfig
            {
                Metadata = new ContainerMetadata { Name = "sibling" },
                Image = new ImageSpec { Image = image },
                LogPath = "sibling/0.log",
                Command = { "cat", "/proc/self/uid_map" },
            };
            var siblingId = await pods.CreateAsync(podId, pod, siblingConfig);
            await daemon.Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = siblingId });
            var sibling = await pods.WaitForExitAsync(siblingId);
            Assert.Equal(0, sibling.ExitCode);
            Assert.Equal([0L, hostId, Length], MapLine(PodHelper.LogText(await PodHelper.ReadLogAsync(sibling.LogPath))));

            await daemon.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId });
            await daemon.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId });
            await RecoveryTests.AssertNothingLeftAsync(daemon, pod, [containerId, siblingId]);
            Assert.False(Directory.Exists(Path.Combine(daemon.StateDirectory, "ns", podId)), "the pod's pinned namespaces directory was left behind");
            Assert.Equal("host\n", File.ReadAllText(Path.Combine(volume, "from-host")));
        }
        finally
        {
            Directory.Delete(volume, recursive: true);
        }
    }

    [Fact]
    public async Task A_pod_rebuilt_from_disk_after_its_database_is_lost_keeps_its_user_namespace()
    {
        var (daemon, pods, image) = await StartDaemonAsync();
        await using var _ = daemon;
        var hostId = Length * (uint)Random.Shared.Next(2000, 3000);
        var (podId, pod) = await pods.RunPodAsync("userns-rebuilt", p => p.Linux.SecurityContext.NamespaceOptions.UsernsOptions = PodMapping(hostId));
        ContainerConfig Config(string name, string[] command) => new()
        {
            Metadata = new ContainerMetadata { Name = name },
            Image = new ImageSpec { Image = image },
            LogPath = $"{name}/0.log",
            Command = { command },
        };
        var keeper = await pods.CreateAsync(podId, pod, Config("keeper", ["sleep", "300"]));
        await daemon.Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = keeper });

        await daemon.KillAsync();
        await Security.DamagedStateTests.ReplaceDatabaseWithGarbageAsync(daemon);
        await daemon.RestartAsync();

        Assert.Equal(PodSandboxState.SandboxReady, Assert.Single((await daemon.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest())).Items).State);
        // The rebuilt pod knows its mappings again (from the keeper's spec), so a new container joins the same namespace.
        // (A rebuilt pod has lost the kubelet's log_directory, so the late container logs nowhere.)
        var lateConfig = Config("late", ["sleep", "300"]);
        lateConfig.LogPath = "";
        var late = await pods.CreateAsync(podId, pod, lateConfig);
        await daemon.Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = late });
        var latePid = RecoveryTests.ContainerPid(await daemon.Runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = late, Verbose = true }));
        Assert.Equal([0L, hostId, Length], MapLine(File.ReadAllText($"/proc/{latePid}/uid_map")));

        await daemon.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId });
        await daemon.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId });
        await RecoveryTests.AssertNothingLeftAsync(daemon, pod, [keeper, late]);
    }

    [Fact]
    public async Task An_image_volume_in_the_pod_shows_the_images_root_as_the_pods_root_and_is_read_only()
    {
        var (daemon, pods, image) = await StartDaemonAsync();
        await using var _ = daemon;
        var hostId = Length * (uint)Random.Shared.Next(3000, 4000);
        var (podId, pod) = await pods.RunPodAsync("userns-image-volume", p => p.Linux.SecurityContext.NamespaceOptions.UsernsOptions = PodMapping(hostId));
        var config = new ContainerConfig
        {
            Metadata = new ContainerMetadata { Name = "reader" },
            Image = new ImageSpec { Image = image },
            LogPath = "reader/0.log",
            Command = { "sleep", "300" },
            Mounts = { new Mount { ContainerPath = "/image", Image = new ImageSpec { Image = image }, Readonly = true } },
            Linux = new LinuxContainerConfig
            {
                SecurityContext = new LinuxContainerSecurityContext { NamespaceOptions = pod.Linux.SecurityContext.NamespaceOptions.Clone() },
            },
        };
        var containerId = await pods.CreateAsync(podId, pod, config);
        await daemon.Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = containerId });

        // Without the idmap the image's root-owned files would show as the overflow id (65534) inside the pod.
        var owners = await pods.ExecAsync(containerId, 10, "stat", "-c", "%u:%g", "/image/bin/sh", "/image/etc");
        Assert.Equal("0:0\n0:0\n", PodHelper.Utf8(owners.Stdout));
        var write = await pods.ExecAsync(containerId, 10, "sh", "-c", "touch /image/x 2>&1; echo $?");
        Assert.Contains("Read-only file system", PodHelper.Utf8(write.Stdout));

        await daemon.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId });
        await daemon.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId });
        await RecoveryTests.AssertNothingLeftAsync(daemon, pod, [containerId]);
        Assert.DoesNotContain(File.ReadLines("/proc/self/mountinfo"), line => line.Contains(daemon.StateDirectory + "/", StringComparison.Ordinal));
    }

    /// <summary>A daemon of the test's own (it is killed) with busybox pulled.</summary>
    private static async Task<(CrispDaemon Daemon, PodHelper Pods, string Image)> StartDaemonAsync()
    {
        var registry = await RegistryWithImages.GetSharedAsync();
        var daemon = await CrispDaemon.StartAsync();
        // A real root (/var/lib/crisp) sits below 0755 parents; the test's temporary base directory is 0700.
        File.SetUnixFileMode(daemon.BaseDirectory, (UnixFileMode)0b111_001_001);
        var image = registry.Reference(TestImageNames.Busybox);
        await daemon.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = image } });
        return (daemon, new PodHelper(daemon, null), image);
    }

    private static long[] MapLine(string text) =>
        text.Split(' ', '\t', '\n').Where(s => s.Length > 0).Take(3).Select(long.Parse).ToArray();

    private static async Task<string> OwnerAsync(string path) =>
        (await ToolRunner.RunCheckedAsync("stat", ["-c", "%u %g", path])).StandardOutput.Trim();
}
