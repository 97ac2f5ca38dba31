using Crisp.Cri.V1;
using Crisp.E2E.Daemon;
using Crisp.E2E.Fixtures;
using Grpc.Core;
using Xunit;

namespace Crisp.E2E.Runtime;

/// <summary>
/// Image volumes (Mount.image) on the real daemon: one read-only mount of the image shared by pods, a sub-path,
/// RemoveImage while mounted (succeeds, as containerd; the snapshots go with the last user), a missing image, and a
/// kill -9 with a volume in use. Each test has its own crispd: they remove images and restart it.
/// </summary>
public sealed class ImageVolumeTests
{
    private static string VolumesDir(CrispDaemon daemon) => Path.Combine(daemon.StateDirectory, "image-volumes");

    private static string SnapshotsDir(CrispDaemon daemon) => Path.Combine(daemon.RootDirectory, "images", "snapshots");

    private static IReadOnlyList<string> Snapshots(CrispDaemon daemon) =>
        Directory.GetDirectories(SnapshotsDir(daemon)).Select(Path.GetFileName).Where(n => n != ".ingest").Order(StringComparer.Ordinal).ToList()!;

    /// <summary>Mount points below the daemon's image-volumes directory, from /proc/self/mountinfo.</summary>
    private static async Task<IReadOnlyList<string>> VolumeMountsAsync(CrispDaemon daemon) =>
        (await File.ReadAllLinesAsync("/proc/self/mountinfo"))
            .Select(l => l.Split(' ')[4])
            .Where(m => m.StartsWith(VolumesDir(daemon) + "/", StringComparison.Ordinal))
            .ToList();

    private static async Task<string> PullAsync(CrispDaemon daemon, RegistryWithImages registry, string name)
    {
        var reference = registry.Reference(name);
        await daemon.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = reference } });
        return reference;
    }

    private static ContainerConfig Sleeper(string name, string image, params Mount[] mounts)
    {
        var config = new ContainerConfig
        {
            Metadata = new ContainerMetadata { Name = name },
            Image = new ImageSpec { Image = image },
            LogPath = $"{name}/0.log",
            Command = { "sleep", "300" },
        };
        config.Mounts.Add(mounts);
        return config;
    }

    private static Mount Volume(string containerPath, string image, string subPath = "") =>
        new() { ContainerPath = containerPath, Image = new ImageSpec { Image = image }, ImageSubPath = subPath, Readonly = true };

    private static async Task<string> StartAsync(PodHelper pods, string podId, PodSandboxConfig pod, ContainerConfig config)
    {
        var id = await pods.CreateAsync(podId, pod, config);
        await pods.Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = id });
        return id;
    }

    private static async Task AssertReadsAsync(PodHelper pods, string containerId, string path, string expected)
    {
        var read = await pods.ExecAsync(containerId, 10, "cat", path);
        Assert.Equal(0, read.ExitCode);
        Assert.Equal(expected, PodHelper.Utf8(read.Stdout));
    }

    private static async Task AssertReadOnlyAsync(PodHelper pods, string containerId, string path)
    {
        var write = await pods.ExecAsync(containerId, 10, "sh", "-c", $"echo x > {path}");
        Assert.NotEqual(0, write.ExitCode);
        Assert.Contains("Read-only file system", PodHelper.Utf8(write.Stderr));
    }

    private static async Task RemovePodAsync(CrispDaemon daemon, string podId)
    {
        await daemon.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId });
        await daemon.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId });
    }

    [Fact]
    public async Task Two_pods_share_one_read_only_mount_and_removing_the_image_then_the_containers_leaves_nothing()
    {
        var registry = await RegistryWithImages.GetSharedAsync();
        await using var daemon = await CrispDaemon.StartAsync();
        var busybox = await PullAsync(daemon, registry, TestImageNames.Busybox);
        var withoutVolumeImage = Snapshots(daemon);
        var data = await PullAsync(daemon, registry, TestImageNames.Multilayer);
        Assert.NotEqual(withoutVolumeImage, Snapshots(daemon));
        var pods = new PodHelper(daemon, null);

        var (firstPodId, firstPod) = await pods.RunPodAsync("volume-a");
        var (secondPodId, secondPod) = await pods.RunPodAsync("volume-b");
        var first = await StartAsync(pods, firstPodId, firstPod, Sleeper("reader", busybox, Volume("/data", data)));
        var second = await StartAsync(pods, secondPodId, secondPod,
            Sleeper("reader", busybox, Volume("/data", data), Volume("/layers-only", data, subPath: "layers")));

        foreach (var id in new[] { first, second })
        {
            await AssertReadsAsync(pods, id, "/data" + TestImageFacts.Multilayer.OverriddenFile, TestImageFacts.Multilayer.OverriddenContent);
            await AssertReadOnlyAsync(pods, id, "/data/layers/new.txt");
            await AssertReadOnlyAsync(pods, id, "/data" + TestImageFacts.Multilayer.LayerTwoFile);
        }
        await AssertReadsAsync(pods, second, "/layers-only/two.txt", TestImageFacts.Multilayer.LayerTwoContent);
        Assert.Single(await VolumeMountsAsync(daemon));

        // As containerd: RemoveImage succeeds while a volume uses the image; its layers stay for the containers.
        await daemon.Images.RemoveImageAsync(new RemoveImageRequest { Image = new ImageSpec { Image = data } });
        Assert.Null((await daemon.Images.ImageStatusAsync(new ImageStatusRequest { Image = new ImageSpec { Image = data } })).Image);
        await AssertReadsAsync(pods, first, "/data" + TestImageFacts.Multilayer.LayerFourFile, TestImageFacts.Multilayer.LayerFourContent);

        await RemovePodAsync(daemon, firstPodId);
        await AssertReadsAsync(pods, second, "/data" + TestImageFacts.Multilayer.LayerThreeFile, TestImageFacts.Multilayer.LayerThreeContent);
        Assert.Single(await VolumeMountsAsync(daemon));
        Assert.NotEqual(withoutVolumeImage, Snapshots(daemon));

        await RemovePodAsync(daemon, secondPodId);
        Assert.Empty(await VolumeMountsAsync(daemon));
        Assert.Empty(Directory.GetFileSystemEntries(VolumesDir(daemon)));
        Assert.Equal(withoutVolumeImage, Snapshots(daemon));
        await RecoveryTests.AssertNothingLeftAsync(daemon, firstPod, [first]);
        await RecoveryTests.AssertNothingLeftAsync(daemon, secondPod, [second]);
    }

    [Fact]
    public async Task A_missing_image_is_a_failed_precondition_naming_it_and_nothing_is_made()
    {
        var registry = await RegistryWithImages.GetSharedAsync();
        await using var daemon = await CrispDaemon.StartAsync();
        var busybox = await PullAsync(daemon, registry, TestImageNames.Busybox);
        var pods = new PodHelper(daemon, null);
        var (podId, pod) = await pods.RunPodAsync("volume-missing");
        var absent = registry.Reference(TestImageNames.Multilayer);

        var error = await Assert.ThrowsAsync<RpcException>(() => pods.CreateAsync(podId, pod, Sleeper("reader", busybox, Volume("/data", absent))));

        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Contains("config.mounts[0].image", error.Status.Detail);
        Assert.Contains(absent, error.Status.Detail);
        Assert.Empty((await daemon.Runtime.ListContainersAsync(new ListContainersRequest())).Containers);
        Assert.Empty(await VolumeMountsAsync(daemon));
        await RemovePodAsync(daemon, podId);
    }

    [Fact]
    public async Task Kill_9_and_restart_keeps_a_volume_in_use_working_and_removal_afterwards_leaves_nothing()
    {
        var registry = await RegistryWithImages.GetSharedAsync();
        await using var daemon = await CrispDaemon.StartAsync();
        var busybox = await PullAsync(daemon, registry, TestImageNames.Busybox);
        var pods = new PodHelper(daemon, null);
        var (podId, pod) = await pods.RunPodAsync("volume-restart");
        // busybox has one layer: the read-only overlay stacks it on an empty directory.
        var before = await StartAsync(pods, podId, pod, Sleeper("before", busybox, Volume("/image", busybox)));
        await AssertReadsAsync(pods, before, "/image/etc/group", PodHelper.Utf8((await pods.ExecAsync(before, 10, "cat", "/etc/group")).Stdout));
        var mounted = Assert.Single(await VolumeMountsAsync(daemon));

        await daemon.KillAsync();
        await daemon.RestartAsync();

        Assert.Equal(mounted, Assert.Single(await VolumeMountsAsync(daemon)));
        var passwd = PodHelper.Utf8((await pods.ExecAsync(before, 10, "cat", "/image/etc/passwd")).Stdout);
        Assert.StartsWith("root:", passwd);
        var after = await StartAsync(pods, podId, pod, Sleeper("after", busybox, Volume("/image", busybox)));
        await AssertReadsAsync(pods, after, "/image/etc/passwd", passwd);
        await AssertReadOnlyAsync(pods, after, "/image/etc/passwd");
        Assert.Equal(mounted, Assert.Single(await VolumeMountsAsync(daemon)));

        await daemon.Runtime.StopContainerAsync(new StopContainerRequest { ContainerId = before, Timeout = 0 });
        await daemon.Runtime.RemoveContainerAsync(new RemoveContainerRequest { ContainerId = before });
        Assert.Single(await VolumeMountsAsync(daemon));
        await RemovePodAsync(daemon, podId);
        Assert.Empty(await VolumeMountsAsync(daemon));
        Assert.Empty(Directory.GetFileSystemEntries(VolumesDir(daemon)));
        await RecoveryTests.AssertNothingLeftAsync(daemon, pod, [before, after]);
    }
}
