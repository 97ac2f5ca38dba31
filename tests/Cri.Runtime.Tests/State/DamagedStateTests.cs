using Crisp.Cri.V1;
using Crisp.ImageService.Metadata;
using Crisp.Runtime.State;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Crisp.Runtime.Tests.State;

public sealed class DamagedStateTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crisp-damaged-state-").FullName;
    private string DbPath => Path.Combine(_dir, "runtime.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private StateStore Open() => new(DbPath, NullLogger<StateStore>.Instance);

    private static SandboxRecord Sandbox(string id) => new()
    {
        Id = id,
        Config = new PodSandboxConfig { Metadata = new PodSandboxMetadata { Name = id, Namespace = "default", Uid = "uid-" + id } },
        RuntimeHandler = "runc",
        CreatedAtNanos = 1,
        Phase = SandboxPhase.Ready,
        Directory = "/var/lib/crisp/sandboxes/" + id,
        StateDirectory = "/run/crisp/sandboxes/" + id,
    };

    private static ContainerRecord Container(string id, string sandboxId) => new()
    {
        Id = id,
        SandboxId = sandboxId,
        Config = new ContainerConfig { Metadata = new ContainerMetadata { Name = id }, Image = new ImageSpec { Image = "busybox" } },
        RuntimeHandler = "runc",
        CreatedAtNanos = 1,
        Phase = ContainerPhase.Running,
        ImageId = "sha256:abc",
        ImageName = "busybox",
        ImageRef = "sha256:abc",
        LayerDirs = ["/snapshots/" + id],
        Directory = "/var/lib/crisp/containers/" + id,
        BundleDirectory = "/run/crisp/containers/" + id,
    };

    private void Sql(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={DbPath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private async Task SeedAsync()
    {
        using var store = Open();
        await store.SaveAsync(Sandbox("s1"), CancellationToken.None);
        await store.SaveAsync(Sandbox("s2"), CancellationToken.None);
        foreach (var id in new[] { "c1", "c2", "c3", "c4", "c5" }) await store.SaveAsync(Container(id, "s1"), CancellationToken.None);
    }

    [Fact]
    public async Task Rows_with_bad_non_json_fields_are_quarantined_with_their_bytes_and_the_rest_load()
    {
        await SeedAsync();
        SqliteConnection.ClearAllPools();
        // Valid JSON everywhere, but: base64 that is not base64, base64 that is not protobuf, an enum number, a
        // string where a number belongs, a required field null, a doc stored as a blob, a doc naming another id.
        Sql("""
            UPDATE containers SET doc = json_set(doc, '$.Config', 'not*base64!') WHERE id = 'c1';
            UPDATE containers SET doc = json_set(doc, '$.Config', 'AAAAAAAA') WHERE id = 'c2';
            UPDATE containers SET doc = json_set(doc, '$.Phase', 2) WHERE id = 'c3';
            UPDATE containers SET doc = json_set(doc, '$.ExitCode', 'seven') WHERE id = 'c4';
            UPDATE containers SET doc = CAST(doc AS BLOB) WHERE id = 'c5';
            UPDATE sandboxes SET doc = json_set(doc, '$.Directory', json('null')) WHERE id = 's2';
            """);

        using var store = Open();

        Assert.Equal("s1", Assert.Single(store.Sandboxes).Id);
        Assert.Empty(store.Containers);
        Assert.Equal(["c1", "c2", "c3", "c4", "c5", "s2"], store.Quarantined.Select(q => q.Id).Order());
        Assert.All(store.Quarantined, q => Assert.NotEmpty(q.Reason));
        Assert.Contains("not text", store.Quarantined.Single(q => q.Id == "c5").Reason);
        Assert.Null(store.SetAsideDatabase);

        using var connection = new SqliteConnection($"Data Source={DbPath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT raw FROM quarantine WHERE id = 'c1'";
        Assert.Contains("not*base64!", (string)command.ExecuteScalar()!);
        command.CommandText = "SELECT count(*) FROM containers";
        Assert.Equal(0L, command.ExecuteScalar());
    }

    [Fact]
    public async Task Quarantined_rows_stay_reported_after_a_restart_and_block_snapshot_usage_answers()
    {
        await SeedAsync();
        SqliteConnection.ClearAllPools();
        Sql("UPDATE containers SET doc = json_set(doc, '$.Config', 'AAAAAAAA') WHERE id = 'c1'");
        using (var first = Open()) Assert.Single(first.Quarantined);
        SqliteConnection.ClearAllPools();

        using var store = Open();

        Assert.Equal("c1", Assert.Single(store.Quarantined).Id);
        Assert.Equal(4, store.Containers.Count);
        var error = Assert.Throws<InvalidOperationException>(() => store.LayerDirsInUse());
        Assert.Contains("containers c1", error.Message);
    }

    [Fact]
    public async Task Layer_dirs_are_answered_when_nothing_is_quarantined()
    {
        await SeedAsync();
        using var store = Open();
        Assert.Contains("/snapshots/c3", store.LayerDirsInUse());
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("truncated")]
    [InlineData("missing-column")]
    public async Task An_unusable_database_file_is_set_aside_and_a_fresh_one_opens(string damage)
    {
        await SeedAsync();
        SqliteConnection.ClearAllPools();
        switch (damage)
        {
            case "garbage":
                File.WriteAllBytes(DbPath, System.Text.Encoding.ASCII.GetBytes(new string('x', 8192)));
                break;
            case "truncated":
                // The header survives and the schema pages are damaged: "database disk image is malformed".
                using (var file = File.OpenWrite(DbPath))
                {
                    file.Position = 100;
                    file.Write(new byte[4096].Select(_ => (byte)0xA5).ToArray());
                }
                break;
            case "missing-column":
                Sql("DROP INDEX containers_by_sandbox; ALTER TABLE containers DROP COLUMN sandbox_id");
                break;
        }
        var damagedBytes = File.ReadAllBytes(DbPath);

        using var store = Open();

        Assert.Empty(store.Sandboxes);
        Assert.Empty(store.Containers);
        Assert.NotNull(store.SetAsideDatabase);
        Assert.Equal(damagedBytes, File.ReadAllBytes(store.SetAsideDatabase));
        var entry = Assert.Single(store.Quarantined);
        Assert.Equal(Quarantine.DatabaseFileSource, entry.Source);
        Assert.Equal(store.SetAsideDatabase, entry.Id);
        Assert.Throws<InvalidOperationException>(() => store.LayerDirsInUse());
        // The fresh database works.
        await store.SaveAsync(Sandbox("s9"), CancellationToken.None);
        SqliteConnection.ClearAllPools();
        using var reopened = Open();
        Assert.Equal("s9", Assert.Single(reopened.Sandboxes).Id);
        Assert.Null(reopened.SetAsideDatabase);
        Assert.Single(reopened.Quarantined);
    }
}
