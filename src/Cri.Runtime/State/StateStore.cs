using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;
using Crisp.Interop;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Crisp.Runtime.State;

/// <summary>
/// Every sandbox and container record, in memory for fast reads and in SQLite (WAL) for durability.
/// Callers persist a record BEFORE performing the effect it describes, so recovery after a kill -9
/// can tell half-done work (Creating/Removing) from finished work.
/// </summary>
public sealed class StateStore : IStateStore, IDisposable
{
    private static readonly JsonSerializerOptions Json = new()
    {
        Converters = { new ProtobufJsonConverterFactory(), new JsonStringEnumConverter() },
    };

    private readonly string _connectionString;
    private readonly ConcurrentDictionary<string, SandboxRecord> _sandboxes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ContainerRecord> _containers = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ILogger<StateStore> _logger;

    public StateStore(string databasePath, ILogger<StateStore> logger)
    {
        _logger = logger;
        OwnedDirectory.CreateIfMissing(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(databasePath))!, FileModes.PrivateDirectory);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
        }.ToString();
        Initialise();
        OwnedFile.RestrictSqliteDatabase(databasePath);
    }

    public IReadOnlyList<SandboxRecord> Sandboxes => _sandboxes.Values.ToArray();
    public IReadOnlyList<ContainerRecord> Containers => _containers.Values.ToArray();

    public SandboxRecord? FindSandbox(string id) => _sandboxes.GetValueOrDefault(id);
    public ContainerRecord? FindContainer(string id) => _containers.GetValueOrDefault(id);

    public IEnumerable<ContainerRecord> ContainersOf(string sandboxId) =>
        _containers.Values.Where(c => c.SandboxId == sandboxId);

    public async Task SaveAsync(SandboxRecord record, CancellationToken cancellationToken)
    {
        var doc = JsonSerializer.Serialize(record, Json);
        await ExecuteAsync(
            "INSERT INTO sandboxes(id, doc) VALUES($id, $doc) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc",
            cmd =>
            {
                cmd.Parameters.AddWithValue("$id", record.Id);
                cmd.Parameters.AddWithValue("$doc", doc);
            },
            cancellationToken);
        _sandboxes[record.Id] = record;
    }

    public async Task SaveAsync(ContainerRecord record, CancellationToken cancellationToken)
    {
        var doc = JsonSerializer.Serialize(record, Json);
        await ExecuteAsync(
            "INSERT INTO containers(id, sandbox_id, doc) VALUES($id, $sandbox, $doc) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc",
            cmd =>
            {
                cmd.Parameters.AddWithValue("$id", record.Id);
                cmd.Parameters.AddWithValue("$sandbox", record.SandboxId);
                cmd.Parameters.AddWithValue("$doc", doc);
            },
            cancellationToken);
        _containers[record.Id] = record;
    }

    public async Task DeleteSandboxAsync(string id, CancellationToken cancellationToken)
    {
        await ExecuteAsync("DELETE FROM sandboxes WHERE id = $id", cmd => cmd.Parameters.AddWithValue("$id", id), cancellationToken);
        _sandboxes.TryRemove(id, out _);
    }

    public async Task DeleteContainerAsync(string id, CancellationToken cancellationToken)
    {
        await ExecuteAsync("DELETE FROM containers WHERE id = $id", cmd => cmd.Parameters.AddWithValue("$id", id), cancellationToken);
        _containers.TryRemove(id, out _);
    }

    private void Initialise()
    {
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using (var pragma = connection.CreateCommand())
        {
            // WAL survives a crashed writer; NORMAL sync is durable against process death (not power loss),
            // which is the failure crisp must tolerate without a fsync per record.
            pragma.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;";
            pragma.ExecuteNonQuery();
        }
        using (var create = connection.CreateCommand())
        {
            create.CommandText =
                "CREATE TABLE IF NOT EXISTS sandboxes(id TEXT PRIMARY KEY, doc TEXT NOT NULL);" +
                "CREATE TABLE IF NOT EXISTS containers(id TEXT PRIMARY KEY, sandbox_id TEXT NOT NULL, doc TEXT NOT NULL);" +
                "CREATE INDEX IF NOT EXISTS containers_by_sandbox ON containers(sandbox_id);";
            create.ExecuteNonQuery();
        }
        Load(connection, "SELECT id, doc FROM sandboxes", (id, doc) =>
            _sandboxes[id] = JsonSerializer.Deserialize<SandboxRecord>(doc, Json)!);
        Load(connection, "SELECT id, doc FROM containers", (id, doc) =>
            _containers[id] = JsonSerializer.Deserialize<ContainerRecord>(doc, Json)!);
    }

    private void Load(SqliteConnection connection, string sql, Action<string, string> add)
    {
        using var query = connection.CreateCommand();
        query.CommandText = sql;
        using var reader = query.ExecuteReader();
        while (reader.Read())
        {
            var id = reader.GetString(0);
            try
            {
                add(id, reader.GetString(1));
            }
            catch (JsonException ex)
            {
                // A record this build cannot read is kept in the database (a newer crisp may) but not served.
                _logger.LogError(ex, "State record {Id} is unreadable and is ignored", id);
            }
        }
    }

    private async Task ExecuteAsync(string sql, Action<SqliteCommand> bind, CancellationToken cancellationToken)
    {
        // One writer at a time: SQLite serialises writers anyway, and this avoids busy retries.
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            await using var connection = new SqliteConnection(_connectionString);
            await connection.OpenAsync(cancellationToken);
            await using var cmd = connection.CreateCommand();
            cmd.CommandText = sql;
            bind(cmd);
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public void Dispose()
    {
        _writeLock.Dispose();
        SqliteConnection.ClearAllPools();
    }
}
