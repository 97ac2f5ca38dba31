using Crisp.ImageService.Snapshots;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Crisp.ImageService.Tests.Snapshots;

public sealed class SnapshotStoreTests : IDisposable
{
    private static readonly string Chain = "sha256:" + new string('a', 64);
    private readonly string _root = Directory.CreateTempSubdirectory("crisp-snapshots-").FullName;
    private readonly SnapshotStore _store;

    public SnapshotStoreTests() => _store = new SnapshotStore(_root, NullLogger<SnapshotStore>.Instance);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void ASnapshotIsInvisibleUntilCommitted()
    {
        using PendingSnapshot pending = _store.Begin(Chain);
        File.WriteAllText(Path.Combine(pending.FsDirectory, "file"), "x");
        Assert.False(_store.Exists(Chain));
        Assert.Empty(_store.List());

        pending.Commit();

        Assert.True(_store.Exists(Chain));
        Assert.Equal([Chain], _store.List());
        Assert.Equal("x", File.ReadAllText(Path.Combine(_store.FsPathOf(Chain), "file")));
        Assert.Equal(Path.Combine(_root, "snapshots", new string('a', 64), "fs"), _store.FsPathOf(Chain));
    }

    [Fact]
    public void DisposingAnUncommittedSnapshotRemovesItWithoutFollowingItsSymlinks()
    {
        string outside = Path.Combine(_root, "outside");
        Directory.CreateDirectory(outside);
        File.WriteAllText(Path.Combine(outside, "keep"), "keep");

        using (PendingSnapshot pending = _store.Begin(Chain))
        {
            Directory.CreateSymbolicLink(Path.Combine(pending.FsDirectory, "evil"), outside);
            Directory.CreateSymbolicLink(Path.Combine(pending.FsDirectory, "up"), "..");
        }

        Assert.False(_store.Exists(Chain));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_root, "snapshots", ".ingest")));
        Assert.Equal("keep", File.ReadAllText(Path.Combine(outside, "keep")));
    }

    [Fact]
    public void ASecondCommitOfTheSameChainKeepsTheFirst()
    {
        using PendingSnapshot first = _store.Begin(Chain);
        using PendingSnapshot second = _store.Begin(Chain);
        File.WriteAllText(Path.Combine(first.FsDirectory, "who"), "first");
        File.WriteAllText(Path.Combine(second.FsDirectory, "who"), "second");

        first.Commit();
        second.Commit();

        Assert.Equal("first", File.ReadAllText(Path.Combine(_store.FsPathOf(Chain), "who")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_root, "snapshots", ".ingest")));
    }

    [Fact]
    public void SweepRemovesUnfinishedSnapshots()
    {
        PendingSnapshot abandoned = _store.Begin(Chain); // a crash: never committed nor disposed
        File.WriteAllText(Path.Combine(abandoned.FsDirectory, "half"), "x");

        var restarted = new SnapshotStore(_root, NullLogger<SnapshotStore>.Instance);

        Assert.Equal(1, restarted.SweepIngests());
        Assert.False(restarted.Exists(Chain));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_root, "snapshots", ".ingest")));
    }

    [Fact]
    public void DeleteRemovesACommittedSnapshot()
    {
        using (PendingSnapshot pending = _store.Begin(Chain)) pending.Commit();

        Assert.True(_store.Delete(Chain));
        Assert.False(_store.Exists(Chain));
        Assert.False(_store.Delete(Chain));
    }

    [Fact]
    public void MapsFsDirectoriesBackToChainIds()
    {
        Assert.Equal(Chain, _store.ChainIdOf(_store.FsPathOf(Chain)));
        Assert.Equal(Chain, _store.ChainIdOf(_store.FsPathOf(Chain) + "/"));
        Assert.Null(_store.ChainIdOf("/var/lib/elsewhere/" + new string('a', 64) + "/fs"));
        Assert.Null(_store.ChainIdOf(Path.Combine(_root, "snapshots", "not-a-digest", "fs")));
    }
}
