using System.Text.Json;
using Crisp.Cri.V1;
using Crisp.E2E.Daemon;
using Crisp.E2E.Fixtures;
using Crisp.E2E.Runtime;
using Xunit;

namespace Crisp.E2E.Security;

/// <summary>Damaged state after a kill -9: an unreadable row or database is set aside and reported, never fatal.</summary>
public sealed class DamagedStateTests
{
    [Fact]
    public async Task An_unreadable_row_is_quarantined_and_reported_while_everything_else_is_served()
    {
        var (daemon, pods, image) = await StartWithImageAsync();
        await using var _ = daemon;
        var (keptPod, keptConfig) = await pods.RunPodAsync("kept");
        var (damagedPod, _) = await pods.RunPodAsync("damaged");
        var keeper = await pods.CreateAsync(keptPod, keptConfig, Config("keeper", image));

        await daemon.KillAsync();
        // Not JSON damage: the stored protobuf config of the pod is no longer base64.
        await ToolRunner.RunCheckedAsync("sqlite3", [Path.Combine(daemon.RootDirectory, "runtime.db"),
            $"UPDATE sandboxes SET doc = json_set(doc, '$.Config', '!!not base64!!') WHERE id = '{damagedPod}';"]);
        await daemon.RestartAsync();

        var listed = await daemon.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest());
        Assert.Equal(keptPod, Assert.Single(listed.Items).Id);
        Assert.Equal(keeper, Assert.Single((await daemon.Runtime.ListContainersAsync(new ListContainersRequest())).Containers).Id);

        var runtime = DamagedState(await daemon.Runtime.StatusAsync(new StatusRequest { Verbose = true }));
        var row = Assert.Single(runtime.GetProperty("quarantined").EnumerateArray());
        Assert.Equal(damagedPod, row.GetProperty("id").GetString());
        Assert.False(string.IsNullOrEmpty(row.GetProperty("reason").GetString()));
        Assert.Contains(damagedPod, daemon.Output);

        await daemon.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = keptPod });
        await daemon.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = keptPod });
    }

    [Fact]
    public async Task A_garbage_database_is_set_aside_and_running_containers_are_recovered_from_disk()
    {
        var (daemon, pods, image) = await StartWithImageAsync();
        await using var _ = daemon;
        var (podId, pod) = await pods.RunPodAsync("rebuilt");
        var keeper = await pods.CreateAsync(podId, pod, Config("keeper", image));
        await daemon.Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = keeper });

        await daemon.KillAsync();
        await ReplaceDatabaseWithGarbageAsync(daemon);
        await daemon.RestartAsync();

        var runtime = DamagedState(await daemon.Runtime.StatusAsync(new StatusRequest { Verbose = true }));
        var setAside = runtime.GetProperty("setAsideDatabase").GetString();
        Assert.False(string.IsNullOrEmpty(setAside));
        Assert.True(File.Exists(setAside), $"the damaged file is kept for forensics: {setAside}");

        var status = await pods.StatusAsync(keeper);
        Assert.Equal(ContainerState.ContainerRunning, status.State);
        Assert.Equal(podId, Assert.Single((await daemon.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest())).Items).Id);
        var exec = await pods.ExecAsync(keeper, 10, "echo", "alive");
        Assert.Equal("alive\n", PodHelper.Utf8(exec.Stdout));

        await daemon.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId });
        await daemon.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId });
        Assert.Empty((await daemon.Runtime.ListContainersAsync(new ListContainersRequest())).Containers);
    }

    /// <summary>runtime.db (and its -wal/-shm) replaced by bytes that are no SQLite database; crispd must be down.</summary>
    internal static async Task ReplaceDatabaseWithGarbageAsync(CrispDaemon daemon)
    {
        var db = Path.Combine(daemon.RootDirectory, "runtime.db");
        foreach (var companion in new[] { db + "-wal", db + "-shm" }) File.Delete(companion);
        await File.WriteAllBytesAsync(db, System.Text.Encoding.ASCII.GetBytes(new string('x', 8192)));
    }

    private static async Task<(CrispDaemon Daemon, PodHelper Pods, string Image)> StartWithImageAsync()
    {
        var registry = await RegistryWithImages.GetSharedAsync();
        var daemon = await CrispDaemon.StartAsync();
        var image = registry.Reference(TestImageNames.Busybox);
        await daemon.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = image } });
        return (daemon, new PodHelper(daemon, null), image);
    }

    private static ContainerConfig Config(string name, string image)
    {
        var config = new ContainerConfig
        {
            Metadata = new ContainerMetadata { Name = name },
            Image = new ImageSpec { Image = image },
            LogPath = $"{name}/0.log",
        };
        config.Command.Add(["sleep", "300"]);
        return config;
    }

    private static JsonElement DamagedState(StatusResponse status) =>
        JsonDocument.Parse(status.Info["damagedState"]).RootElement.GetProperty("runtime").Clone();
}
