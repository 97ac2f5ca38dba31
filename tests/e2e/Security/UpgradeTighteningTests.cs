using Crisp.E2E.Fixtures;
using Xunit;

namespace Crisp.E2E.Security;

/// <summary>An installation an older crispd left open (0755 dirs, 0644 databases) is closed by the next start.</summary>
public sealed class UpgradeTighteningTests
{
    private const UnixFileMode Open = (UnixFileMode)0b111_101_101;
    private const UnixFileMode Readable = (UnixFileMode)0b110_100_100;
    private const UnixFileMode PrivateDirectory = (UnixFileMode)0b111_000_000;
    private const UnixFileMode PrivateFile = (UnixFileMode)0b110_000_000;

    [Fact]
    public async Task Start_tightens_crisp_directories_and_databases_left_open()
    {
        await using var crisp = await OpenParentDaemon.StartAsync();
        var daemon = crisp.Daemon;
        await crisp.PullAsync(TestImageNames.Busybox);
        var (podId, _) = await crisp.Pods.RunPodAsync("upgrade");
        // SIGKILL, like a crash or an upgrade that did not stop cleanly: the -wal and -shm files stay behind.
        await daemon.KillAsync();

        var root = daemon.RootDirectory;
        var state = daemon.StateDirectory;
        string[] directories =
        [
            root,
            Path.Combine(root, "images"),
            Path.Combine(root, "images", "content"),
            Path.Combine(root, "images", "content", "sha256"),
            Path.Combine(root, "images", "content", "ingest"),
            Path.Combine(root, "images", "snapshots"),
            Path.Combine(root, "images", "snapshots", ".ingest"),
            Path.Combine(root, "containers"),
            Path.Combine(root, "sandboxes"),
            Path.Combine(root, "network"),
            Path.Combine(root, "network", "attachments"),
            state,
            Path.Combine(state, "containers"),
            Path.Combine(state, "sandboxes"),
            Path.Combine(state, "exits"),
            Path.Combine(state, "ns"),
        ];
        string[] databases =
        [
            Path.Combine(root, "runtime.db"),
            Path.Combine(root, "runtime.db-wal"),
            Path.Combine(root, "runtime.db-shm"),
            Path.Combine(root, "images", "metadata.db"),
            Path.Combine(root, "images", "metadata.db-wal"),
            Path.Combine(root, "images", "metadata.db-shm"),
        ];
        foreach (var directory in directories)
        {
            Assert.True(Directory.Exists(directory), $"{directory} should exist after a pull and a pod");
            File.SetUnixFileMode(directory, Open);
        }
        foreach (var database in databases)
        {
            Assert.True(File.Exists(database), $"{database} should survive a SIGKILL");
            File.SetUnixFileMode(database, Readable);
        }

        await daemon.RestartAsync();

        foreach (var directory in directories)
            Assert.True(File.GetUnixFileMode(directory) == PrivateDirectory, $"{directory} is {Octal(File.GetUnixFileMode(directory))} after the start, want 0700");
        foreach (var database in databases)
            Assert.True(File.GetUnixFileMode(database) == PrivateFile, $"{database} is {Octal(File.GetUnixFileMode(database))} after the start, want 0600");
        await Unprivileged.AssertUnlistableAsync(root);
        await Unprivileged.AssertUnreachableAsync(Path.Combine(root, "runtime.db"));
        await Unprivileged.AssertUnreachableAsync(Path.Combine(state, "ns", podId));
    }

    private static string Octal(UnixFileMode mode) => "0" + Convert.ToString((int)mode, 8);
}
