using Crisp.ImageService.Metadata;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Crisp.ImageService.Tests.Metadata;

public sealed class DamagedMetadataTests : IDisposable
{
    private const string ConfigJson = """{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:1111111111111111111111111111111111111111111111111111111111111111"]}}""";
    private readonly string _root = Directory.CreateTempSubdirectory("crisp-damaged-metadata-").FullName;
    private string DatabasePath => Path.Combine(_root, "metadata.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_root, recursive: true);
    }

    private MetadataStore Open() => new(DatabasePath, NullLogger<MetadataStore>.Instance);

    internal static NewImage Image(char id)
    {
        ImageConfigDocument config = ImageConfigDocument.Parse(ConfigJson, "test");
        return new NewImage("sha256:" + new string(id, 64), config.Config, 10, "sha256:" + new string('9', 64),
            Crisp.ImageService.Snapshots.ChainIds.Compute(config.DiffIds), config.DiffIds);
    }

    private void Sql(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    [Fact]
    public void Unreadable_image_rows_are_quarantined_with_their_layers_and_tags_and_the_rest_load()
    {
        using (MetadataStore store = Open())
        {
            store.Record(Image('a'), "r/a:1", null, null);
            store.Record(Image('b'), "r/b:1", null, null);
            store.Record(Image('c'), "r/c:1", null, null);
            store.Record(Image('e'), "r/e:1", null, null);
        }
        string b = "sha256:" + new string('b', 64);
        string c = "sha256:" + new string('c', 64);
        string e = "sha256:" + new string('e', 64);
        Sql($"""
            UPDATE images SET size = 'ten' WHERE id = '{b}';
            UPDATE layers SET diff_id = 'sha256:zz' WHERE image_id = '{c}';
            UPDATE images SET created_unix_ms = 'yesterday' WHERE id = '{e}';
            """);

        using MetadataStore reopened = Open();

        Assert.Equal("sha256:" + new string('a', 64), Assert.Single(reopened.List()).Id);
        Assert.Equal([b, c, e], reopened.Quarantined.Select(q => q.Id).Order());
        Assert.Contains("images.size", reopened.Quarantined.Single(q => q.Id == b).Reason);
        Assert.Null(reopened.FindByTag("r/b:1"));
        using var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT raw FROM quarantine WHERE id = '{b}'";
        string raw = (string)command.ExecuteScalar()!;
        Assert.Contains("'ten'", raw);
        Assert.Contains("r/b:1", raw);
        Assert.Contains("sha256:1111", raw);
    }

    [Fact]
    public void A_garbage_database_file_is_set_aside_and_a_fresh_one_opens()
    {
        using (MetadataStore store = Open()) store.Record(Image('a'), "r/a:1", null, null);
        File.WriteAllText(DatabasePath, new string('#', 5000));

        using (MetadataStore reopened = Open())
        {
            Assert.Empty(reopened.List());
            Assert.NotNull(reopened.SetAsideDatabase);
            Assert.Equal(new string('#', 5000), File.ReadAllText(reopened.SetAsideDatabase));
            Assert.Equal(Quarantine.DatabaseFileSource, Assert.Single(reopened.Quarantined).Source);
            reopened.Record(Image('b'), "r/b:1", null, null);
        }
        using MetadataStore again = Open();
        Assert.Equal("sha256:" + new string('b', 64), Assert.Single(again.List()).Id);
        Assert.Single(again.Quarantined);
    }
}
