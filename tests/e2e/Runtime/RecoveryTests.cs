using Crisp.Cri.V1;
using Crisp.E2E.Daemon;
using Crisp.E2E.Fixtures;
using Xunit;

namespace Crisp.E2E.Runtime;

/// <summary>kill -9 of crispd with running pods: nothing lost, exits while down captured, nothing leaked after removal.</summary>
public sealed class RecoveryTests
{
    [Fact]
    public async Task Kill_9_and_restart_keeps_pods_captures_exits_and_then_cleans_up_everything()
    {
        var registry = await RegistryWithImages.GetSharedAsync();
        await using var daemon = await CrispDaemon.StartAsync();
        var image = registry.Reference(TestImageNames.Busybox);
        await daemon.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = image } });
        var pods = new PodHelper(daemon, null);

        var (podId, pod) = await pods.RunPodAsync("survivor");
        var keeper = await StartAsync(pods, podId, pod, "keeper", image, ["sleep", "300"]);
        // Exits with 7 once the host drops a file into its rootfs: lets the test decide "while crispd is down".
        var quitter = await StartAsync(pods, podId, pod, "quitter", image,
            ["sh", "-c", "while [ ! -e /tmp/go ]; do sleep 0.1; done; exit 7"]);
        var keeperPid = ContainerPid(await daemon.Runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = keeper, Verbose = true }));
        Assert.True(keeperPid > 0);
        var quitterPid = ContainerPid(await daemon.Runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = quitter, Verbose = true }));
        Assert.True(quitterPid > 0);

        await daemon.KillAsync();
        // The rootfs is mounted in the container's mount namespace only (the host let go of it once runc created it).
        File.WriteAllText($"/proc/{quitterPid}/root/tmp/go", "");
        var exitFile = Path.Combine(daemon.StateDirectory, "exits", quitter);
        await LifecycleTests.WaitUntilAsync(() => File.Exists(exitFile) && File.ReadAllText(exitFile).Trim().Length > 0);
        Assert.True(Directory.Exists($"/proc/{keeperPid}"), "the container must outlive crispd (conmon owns it)");

        await daemon.RestartAsync();
        var listed = await daemon.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest());
        var recovered = Assert.Single(listed.Items);
        Assert.Equal(podId, recovered.Id);
        Assert.Equal(PodSandboxState.SandboxReady, recovered.State);

        var keeperStatus = await pods.StatusAsync(keeper);
        Assert.Equal(ContainerState.ContainerRunning, keeperStatus.State);
        var quitterStatus = await pods.StatusAsync(quitter);
        Assert.Equal(ContainerState.ContainerExited, quitterStatus.State);
        Assert.Equal(7, quitterStatus.ExitCode);
        Assert.Equal("Error", quitterStatus.Reason);

        // The recovered daemon still drives the running container.
        var exec = await pods.ExecAsync(keeper, 10, "echo", "alive");
        Assert.Equal("alive\n", PodHelper.Utf8(exec.Stdout));

        await daemon.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId });
        await daemon.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId });
        Assert.Empty((await daemon.Runtime.ListContainersAsync(new ListContainersRequest())).Containers);

        await AssertNothingLeftAsync(daemon, pod, [keeper, quitter]);
    }

    [Fact]
    public async Task Restart_finishes_creates_and_removes_that_a_kill_9_interrupted()
    {
        var registry = await RegistryWithImages.GetSharedAsync();
        await using var daemon = await CrispDaemon.StartAsync();
        var image = registry.Reference(TestImageNames.Busybox);
        await daemon.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = image } });
        var pods = new PodHelper(daemon, null);
        var (podId, pod) = await pods.RunPodAsync("interrupted");

        // "creating": runc create and conmon ran, but crispd died before recording the container as created.
        var creating = await pods.CreateAsync(podId, pod, Config("creating", image, ["sleep", "300"]));
        // "removing": stopped, and crispd died in the middle of removing it.
        var removing = await StartAsync(pods, podId, pod, "removing", image, ["sleep", "300"]);
        await daemon.Runtime.StopContainerAsync(new StopContainerRequest { ContainerId = removing, Timeout = 0 });
        var survivor = await StartAsync(pods, podId, pod, "survivor", image, ["sleep", "300"]);

        await daemon.KillAsync();
        var db = Path.Combine(daemon.RootDirectory, "runtime.db");
        await ToolRunner.RunCheckedAsync("sqlite3", [db,
            $"UPDATE containers SET doc = json_set(doc, '$.Phase', 'Creating') WHERE id = '{creating}';" +
            $"UPDATE containers SET doc = json_set(doc, '$.Phase', 'Removing') WHERE id = '{removing}';"]);
        await daemon.RestartAsync();

        var listed = await daemon.Runtime.ListContainersAsync(new ListContainersRequest());
        Assert.Equal(survivor, Assert.Single(listed.Containers).Id);
        Assert.Equal(ContainerState.ContainerRunning, (await pods.StatusAsync(survivor)).State);
        var runcList = await ToolRunner.RunCheckedAsync("runc", ["--root", Path.Combine(daemon.StateDirectory, "runc"), "list", "-q"]);
        Assert.DoesNotContain(creating, runcList.StandardOutput);
        Assert.DoesNotContain(removing, runcList.StandardOutput);
        Assert.Contains(survivor, runcList.StandardOutput);
        // Recovery itself cleaned up (before any pod removal could): no directories, mounts or conmon left.
        var mountinfo = await File.ReadAllTextAsync("/proc/self/mountinfo");
        foreach (var id in new[] { creating, removing })
        {
            Assert.False(Directory.Exists(Path.Combine(daemon.RootDirectory, "containers", id)), $"{id} directory left");
            Assert.False(Directory.Exists(Path.Combine(daemon.StateDirectory, "containers", id)), $"{id} bundle left");
            Assert.DoesNotContain(id, mountinfo);
        }

        await daemon.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId });
        await daemon.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId });
        await AssertNothingLeftAsync(daemon, pod, [creating, removing, survivor]);
    }

    private static ContainerConfig Config(string name, string image, string[] command)
    {
        var config = new ContainerConfig
        {
            Metadata = new ContainerMetadata { Name = name },
            Image = new ImageSpec { Image = image },
            LogPath = $"{name}/0.log",
        };
        config.Command.Add(command);
        return config;
    }

    private static async Task<string> StartAsync(PodHelper pods, string podId, PodSandboxConfig pod, string name, string image, string[] command)
    {
        var id = await pods.CreateAsync(podId, pod, Config(name, image, command));
        await pods.Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = id });
        return id;
    }

    internal static int ContainerPid(ContainerStatusResponse status)
    {
        using var info = System.Text.Json.JsonDocument.Parse(status.Info["info"]);
        return info.RootElement.GetProperty("pid").GetInt32();
    }

    /// <summary>No mount, cgroup, conmon process or state directory of the pod or its containers is left.</summary>
    internal static async Task AssertNothingLeftAsync(CrispDaemon daemon, PodSandboxConfig pod, IReadOnlyList<string> containerIds, bool daemonHasOtherPods = false)
    {
        // The namespaces directory itself is a daemon-wide private bind mount; everything else must be gone.
        var namespacesDir = Path.Combine(daemon.StateDirectory, "ns");
        var mounts = (await File.ReadAllLinesAsync("/proc/self/mountinfo"))
            .Select(l => l.Split(' ')[4])
            .Where(m => m.StartsWith(daemon.BaseDirectory, StringComparison.Ordinal) && m != namespacesDir)
            .Where(m => !daemonHasOtherPods || containerIds.Any(id => m.Contains(id, StringComparison.Ordinal)))
            .ToList();
        Assert.Empty(mounts);

        // The pod cgroup is the kubelet's to remove; the containers' cgroups below it are crisp's.
        foreach (var id in containerIds)
            Assert.False(CgroupCleanup.ExistsAnywhere(pod.Linux.CgroupParent + "/" + id), $"cgroup of container {id} was left behind");

        foreach (var proc in Directory.EnumerateDirectories("/proc").Where(d => int.TryParse(Path.GetFileName(d), out _)))
        {
            string cmdline;
            try { cmdline = (await File.ReadAllTextAsync(Path.Combine(proc, "cmdline"))).Replace('\0', ' '); }
            catch (IOException) { continue; }
            foreach (var id in containerIds)
                Assert.False(cmdline.Contains(id), $"process {proc} still runs for container {id}: {cmdline}");
        }
        // conmon of a force-removed container may report its exit a moment after the removal.
        var exitsDir = Path.Combine(daemon.StateDirectory, "exits");
        await LifecycleTests.WaitUntilAsync(() => !containerIds.Any(id => File.Exists(Path.Combine(exitsDir, id))));
        foreach (var id in containerIds)
        {
            Assert.False(Directory.Exists(Path.Combine(daemon.RootDirectory, "containers", id)));
            Assert.False(Directory.Exists(Path.Combine(daemon.StateDirectory, "containers", id)));
        }
    }
}
