using Crisp.ImageService.Content;
using Crisp.ImageService.Gc;
using Crisp.ImageService.Metadata;
using Crisp.ImageService.Snapshots;
using Crisp.ImageService.Tests.Metadata;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Crisp.ImageService.Tests.Gc;

public sealed class GarbageCollectorTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("crisp-gc-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_root, recursive: true);
    }

    private (string Blob, string Snapshot) Unreferenced()
    {
        string hex = new('f', 64);
        string blob = Path.Combine(_root, "content", "sha256", hex);
        File.WriteAllText(blob, "x");
        string snapshot = Path.Combine(_root, "snapshots", hex);
        Directory.CreateDirectory(Path.Combine(snapshot, "fs"));
        return (blob, snapshot);
    }

    private GarbageCollector Collector(MetadataStore metadata) =>
        new(metadata, new ContentStore(_root, NullLogger<ContentStore>.Instance), new SnapshotStore(_root, NullLogger<SnapshotStore>.Instance),
            new Leases(), NullLogger<GarbageCollector>.Instance);

    private MetadataStore OpenMetadata() => new(Path.Combine(_root, "metadata.db"), NullLogger<MetadataStore>.Instance);

    [Fact]
    public void Unreferenced_blobs_and_snapshots_are_collected_when_nothing_is_quarantined()
    {
        using MetadataStore metadata = OpenMetadata();
        GarbageCollector collector = Collector(metadata);
        (string blob, string snapshot) = Unreferenced();

        Assert.Equal(new GarbageCollector.Result(1, 1), collector.Collect());
        Assert.False(File.Exists(blob));
        Assert.False(Directory.Exists(snapshot));
    }

    [Fact]
    public void Nothing_is_deleted_while_the_metadata_quarantine_is_not_empty()
    {
        using (MetadataStore seed = OpenMetadata()) seed.Record(DamagedMetadataTests.Image('a'), "r/a:1", null, null);
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(_root, "metadata.db")};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE images SET config_json = '{' ";
            command.ExecuteNonQuery();
        }
        using MetadataStore metadata = OpenMetadata();
        Assert.Single(metadata.Quarantined);
        GarbageCollector collector = Collector(metadata);
        (string blob, string snapshot) = Unreferenced();

        Assert.Equal(new GarbageCollector.Result(0, 0), collector.Collect());
        Assert.True(File.Exists(blob));
        Assert.True(Directory.Exists(snapshot));
    }

    [Fact]
    public void No_snapshot_is_deleted_while_the_runtime_cannot_prove_which_ones_containers_use()
    {
        using MetadataStore metadata = OpenMetadata();
        GarbageCollector collector = Collector(metadata);
        collector.RegisterSnapshotUsage(() => throw new InvalidOperationException("the runtime state database has 1 quarantined entry"));
        (_, string snapshot) = Unreferenced();

        Assert.Equal(0, collector.Collect().SnapshotsRemoved);
        Assert.True(Directory.Exists(snapshot));
    }
}
