using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Crisp.ImageService.Metadata;
using Crisp.Interop;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Crisp.Runtime.State;

/// <summary>
/// Every sandbox and container record, in memory for fast reads and in SQLite (WAL) for durability.
/// Callers persist a record BEFORE performing the effect it describes, so recovery after a kill -9
/// can tell half-done work (Creating/Removing) from finished work.
/// A row that cannot be read is moved to the quarantine table (and reported) instead of stopping the daemon; a file
/// that is not a usable database at all is set aside and replaced by a fresh one, which recovery then refills from
/// what is on disk (<see cref="Recovery.DiskStateRebuilder"/>).
/// </summary>
public sealed partial class StateStore : IStateStore, IDisposable
{
    private readonly string _connectionString;
    private readonly ConcurrentDictionary<string, SandboxRecord> _sandboxes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ContainerRecord> _containers = new(StringComparer.Ordinal);
    // Per-pod index: a pod's containers are found without scanning every container on the node.
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, ContainerRecord>> _containersBySandbox = new(StringComparer.Ordinal);
    private readonly List<QuarantinedRow> _quarantined = [];
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ILogger<StateStore> _logger;
    private readonly TimeProvider _time;

    public StateStore(string databasePath, ILogger<StateStore> logger, TimeProvider? time = null)
    {
        _logger = logger;
        _time = time ?? TimeProvider.System;
        OwnedDirectory.CreateIfMissing(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(databasePath))!, FileModes.PrivateDirectory);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
        }.ToString();
        try
        {
            Initialise();
        }
        catch (Exception ex) when (DamagedDatabase.IsDamage(ex))
        {
            ReplaceDamagedDatabase(databasePath, ex);
        }
        OwnedFile.RestrictSqliteDatabase(databasePath);
    }

    /// <summary>Where the unusable database file was moved at this start, or null: recovery must then rebuild records from disk.</summary>
    public string? SetAsideDatabase { get; private set; }

    /// <summary>Rows moved aside as unreadable (this start or earlier, until an operator clears the table), and a set-aside file.</summary>
    public IReadOnlyList<QuarantinedRow> Quarantined
    {
        get { lock (_quarantined) return [.. _quarantined]; }
    }

    /// <summary>
    /// The image layer directories containers use. Throws while anything is quarantined: a container whose record
    /// cannot be read may use any snapshot, so no snapshot can be proven unused.
    /// </summary>
    public IReadOnlySet<string> LayerDirsInUse()
    {
        var quarantined = Quarantined;
        if (quarantined.Count > 0)
            throw new InvalidOperationException(
                $"the runtime state database has {quarantined.Count} quarantined entr{(quarantined.Count == 1 ? "y" : "ies")} " +
                $"({string.Join(", ", quarantined.Take(3).Select(q => $"{q.Source} {q.Id}"))}); the containers they describe may use any snapshot");
        return _containers.Values.SelectMany(c => c.LayerDirs.Concat(c.ImageVolumes.SelectMany(v => v.LayerDirs))).ToHashSet(StringComparer.Ordinal);
    }

    public IReadOnlyList<SandboxRecord> Sandboxes => _sandboxes.Values.ToArray();
    public IReadOnlyList<ContainerRecord> Containers => _containers.Values.ToArray();

    public SandboxRecord? FindSandbox(string id) => _sandboxes.GetValueOrDefault(id);
    public ContainerRecord? FindContainer(string id) => _containers.GetValueOrDefault(id);

    public IEnumerable<ContainerRecord> ContainersOf(string sandboxId) =>
        _containersBySandbox.TryGetValue(sandboxId, out var pod) ? pod.Values.ToArray() : [];

    public async Task SaveAsync(SandboxRecord record, CancellationToken cancellationToken)
    {
        var doc = JsonSerializer.Serialize(record, StateJsonContext.Default.SandboxRecord);
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

    public Task SaveAsync(ContainerRecord record, CancellationToken cancellationToken) => SaveAllAsync([record], cancellationToken);

    public async Task SaveAllAsync(IReadOnlyCollection<ContainerRecord> records, CancellationToken cancellationToken)
    {
        if (records.Count == 0) return;
        var docs = records.Select(r => (Record: r, Doc: JsonSerializer.Serialize(r, StateJsonContext.Default.ContainerRecord))).ToList();
        await ExecuteAsync(
            "INSERT INTO containers(id, sandbox_id, doc) VALUES($id, $sandbox, $doc) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc",
            docs,
            (cmd, item) =>
            {
                cmd.Parameters.AddWithValue("$id", item.Record.Id);
                cmd.Parameters.AddWithValue("$sandbox", item.Record.SandboxId);
                cmd.Parameters.AddWithValue("$doc", item.Doc);
            },
            cancellationToken);
        foreach (var record in records) Keep(record);
    }

    public async Task DeleteSandboxAsync(string id, CancellationToken cancellationToken)
    {
        await ExecuteAsync("DELETE FROM sandboxes WHERE id = $id", cmd => cmd.Parameters.AddWithValue("$id", id), cancellationToken);
        _sandboxes.TryRemove(id, out _);
    }

    public Task DeleteContainerAsync(string id, CancellationToken cancellationToken) => DeleteContainersAsync([id], cancellationToken);

    public async Task DeleteContainersAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken)
    {
        if (ids.Count == 0) return;
        await ExecuteAsync("DELETE FROM containers WHERE id = $id", ids, (cmd, id) => cmd.Parameters.AddWithValue("$id", id), cancellationToken);
        foreach (var id in ids)
        {
            if (!_containers.TryRemove(id, out var removed)) continue;
            if (_containersBySandbox.TryGetValue(removed.SandboxId, out var pod)) pod.TryRemove(id, out _);
        }
    }

    private void Keep(ContainerRecord record)
    {
        _containers[record.Id] = record;
        _containersBySandbox.GetOrAdd(record.SandboxId, _ => new ConcurrentDictionary<string, ContainerRecord>(StringComparer.Ordinal))[record.Id] = record;
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
                Quarantine.CreateTable;
            create.ExecuteNonQuery();
        }
        DamagedDatabase.RequireColumns(connection, "sandboxes", "id", "doc");
        DamagedDatabase.RequireColumns(connection, "containers", "id", "sandbox_id", "doc");
        DamagedDatabase.RequireColumns(connection, "quarantine", "source", "id", "reason", "raw", "quarantined_unix_ms");
        using (var index = connection.CreateCommand())
        {
            index.CommandText = "CREATE INDEX IF NOT EXISTS containers_by_sandbox ON containers(sandbox_id);";
            index.ExecuteNonQuery();
        }
        lock (_quarantined) _quarantined.AddRange(Quarantine.ReadAll(connection));
        Load(connection, "sandboxes", ParseSandbox, record => _sandboxes[record.Id] = record);
        Load(connection, "containers", ParseContainer, Keep);
    }

    private void ReplaceDamagedDatabase(string databasePath, Exception damage)
    {
        _sandboxes.Clear();
        _containers.Clear();
        _containersBySandbox.Clear();
        lock (_quarantined) _quarantined.Clear();
        using (var pooled = new SqliteConnection(_connectionString)) SqliteConnection.ClearPool(pooled);
        var now = _time.GetUtcNow();
        var aside = DamagedDatabase.SetAside(databasePath, now);
        LogDatabaseSetAside(databasePath, aside, damage.Message);
        Initialise();
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        var entry = Quarantine.RecordSetAside(connection, aside,
            $"{databasePath} was unusable ({damage.Message}); crispd started with a fresh database and rebuilt the records it could from the bundles and conmon processes on disk",
            now);
        lock (_quarantined) _quarantined.Add(entry);
        SetAsideDatabase = aside;
    }

    private static SandboxRecord ParseSandbox(string rowId, string doc)
    {
        var record = JsonSerializer.Deserialize(doc, StateJsonContext.Default.SandboxRecord) ?? throw new FormatException("doc is JSON null");
        RequireOwnId(rowId, record.Id);
        if (!Enum.IsDefined(record.Phase)) throw new FormatException($"unknown phase {record.Phase}");
        if (record.Config.Metadata is null) throw new FormatException("config has no metadata");
        return record;
    }

    private static ContainerRecord ParseContainer(string rowId, string doc)
    {
        var record = JsonSerializer.Deserialize(doc, StateJsonContext.Default.ContainerRecord) ?? throw new FormatException("doc is JSON null");
        RequireOwnId(rowId, record.Id);
        if (!Enum.IsDefined(record.Phase)) throw new FormatException($"unknown phase {record.Phase}");
        if (record.Config.Metadata is null) throw new FormatException("config has no metadata");
        ObjectIds.RequireFileNameSafe(record.SandboxId, "SandboxId");
        return record;
    }

    /// <summary>Ids name directories and runc containers: one that differs from its row, or holds a path, is damage.</summary>
    private static void RequireOwnId(string rowId, string recordId)
    {
        if (recordId != rowId) throw new FormatException($"doc names id \"{recordId}\", the row \"{rowId}\"");
        ObjectIds.RequireFileNameSafe(recordId, "Id");
    }

    /// <summary>
    /// Loads every row it can; any row that fails to parse (JSON, base64, protobuf, enum, number, null, type, id) is
    /// moved to the quarantine table with its reason, so the daemon starts with everything else and says what it lost.
    /// </summary>
    private void Load<T>(SqliteConnection connection, string table, Func<string, string, T> parse, Action<T> add)
    {
        var unreadable = new List<(long RowId, string Id, string Reason)>();
        using (var query = connection.CreateCommand())
        {
            query.CommandText = $"SELECT rowid, id, doc FROM {table}";
            using var reader = query.ExecuteReader();
            while (reader.Read())
            {
                var rowId = reader.GetInt64(0);
                var id = reader.IsDBNull(1) ? "" : Convert.ToString(reader.GetValue(1), CultureInfo.InvariantCulture) ?? "";
                try
                {
                    var doc = reader.GetValue(2) switch
                    {
                        string text => text,
                        DBNull => throw new FormatException("doc is NULL"),
                        var other => throw new FormatException($"doc is {other.GetType().Name}, not text"),
                    };
                    add(parse(id, doc));
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    unreadable.Add((rowId, id, $"{ex.GetType().Name}: {ex.Message}"));
                }
            }
        }
        foreach (var (rowId, id, reason) in unreadable)
        {
            var entry = Quarantine.Move(connection, table, rowId, id, reason, _time.GetUtcNow());
            lock (_quarantined) _quarantined.Add(entry);
            LogRowQuarantined(table, id, reason);
        }
    }

    private Task ExecuteAsync(string sql, Action<SqliteCommand> bind, CancellationToken cancellationToken) =>
        ExecuteAsync(sql, new[] { bind }, (cmd, b) => b(cmd), cancellationToken);

    /// <summary>Runs <paramref name="sql"/> once per item in one transaction: a pod's worth of rows costs one commit, not one each.</summary>
    private async Task ExecuteAsync<T>(string sql, IReadOnlyCollection<T> items, Action<SqliteCommand, T> bind, CancellationToken cancellationToken)
    {
        // One writer at a time: SQLite serialises writers anyway, and this avoids busy retries.
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            await using var connection = new SqliteConnection(_connectionString);
            await connection.OpenAsync(cancellationToken);
            await using var transaction = items.Count > 1 ? connection.BeginTransaction() : null;
            foreach (var item in items)
            {
                await using var cmd = connection.CreateCommand();
                cmd.Transaction = transaction;
                cmd.CommandText = sql;
                bind(cmd, item);
                await cmd.ExecuteNonQueryAsync(cancellationToken);
            }
            if (transaction is not null) await transaction.CommitAsync(cancellationToken);
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

    [LoggerMessage(Level = LogLevel.Error, Message = "State row {Table} {Id} is unreadable ({Reason}); moved to the quarantine table and not served")]
    private partial void LogRowQuarantined(string table, string id, string reason);

    [LoggerMessage(Level = LogLevel.Critical, Message = "State database {Path} is unusable ({Reason}); moved it to {Aside} and starting with a fresh one rebuilt from disk")]
    private partial void LogDatabaseSetAside(string path, string aside, string reason);
}
