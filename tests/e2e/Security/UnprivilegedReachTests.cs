using Crisp.Cri.V1;
using Crisp.E2E.Fixtures;
using Crisp.E2E.Runtime;
using Google.Protobuf;
using Xunit;

namespace Crisp.E2E.Security;

/// <summary>
/// Issue 10: an unprivileged user must not reach image content (a setuid-root binary), container upper dirs,
/// the databases (container env, including values from Secrets) or anything under state_dir.
/// </summary>
public sealed class UnprivilegedReachTests
{
    [Fact]
    public async Task Nobody_reaches_no_image_file_snapshot_upper_dir_database_or_state()
    {
        await using var crisp = await OpenParentDaemon.StartAsync();
        var daemon = crisp.Daemon;
        var reference = await crisp.PullAsync(TestImageNames.SpecialFiles);
        var (podId, pod) = await crisp.Pods.RunPodAsync("reach");
        var config = crisp.Container("holder", reference, "sh", "-c", "echo upper > /tmp/written; exec sleep 300");
        config.Envs.Add(new KeyValue { Key = "SECRET", Value = ByteString.CopyFromUtf8("from-a-secret") });
        var containerId = await crisp.Pods.CreateAsync(podId, pod, config);
        await daemon.Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = containerId });

        var root = daemon.RootDirectory;
        var state = daemon.StateDirectory;
        var setuid = Directory.EnumerateDirectories(Path.Combine(root, "images", "snapshots"))
            .Select(snapshot => Path.Combine(snapshot, "fs", TestImageFacts.SpecialFiles.SetuidFile.TrimStart('/')))
            .Single(File.Exists);
        Assert.True(File.GetUnixFileMode(setuid).HasFlag(UnixFileMode.SetUser), "the unpacked image keeps its setuid bit");
        var snapshotFs = Path.GetDirectoryName(Path.GetDirectoryName(setuid))!;
        var upper = Path.Combine(root, "containers", containerId, "upper");
        await WaitForFileAsync(Path.Combine(upper, "tmp", "written"));

        string[] unreachable =
        [
            setuid,
            Path.GetDirectoryName(setuid)!,
            snapshotFs,
            Path.GetDirectoryName(snapshotFs)!,
            Path.Combine(root, "images", "snapshots"),
            Directory.EnumerateFiles(Path.Combine(root, "images", "content", "sha256")).First(),
            Path.Combine(root, "images", "metadata.db"),
            Path.Combine(root, "images", "metadata.db-wal"),
            Path.Combine(root, "images", "metadata.db-shm"),
            Path.Combine(root, "runtime.db"),
            Path.Combine(root, "runtime.db-wal"),
            Path.Combine(root, "runtime.db-shm"),
            upper,
            Path.Combine(upper, "tmp", "written"),
            Path.Combine(root, "sandboxes", podId, "resolv.conf"),
            Path.Combine(state, "containers", containerId, "config.json"),
            Path.Combine(state, "containers", containerId),
            Path.Combine(state, "exits"),
            Path.Combine(state, "ns", podId),
            daemon.SocketPath,
        ];
        foreach (var path in unreachable) await Unprivileged.AssertUnreachableAsync(path);
        await Unprivileged.AssertUnlistableAsync(root);
        await Unprivileged.AssertUnlistableAsync(state);
    }

    private static async Task WaitForFileAsync(string path)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!File.Exists(path))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{path} did not appear");
            await Task.Delay(50);
        }
    }
}
