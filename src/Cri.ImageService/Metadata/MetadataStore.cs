using System.Globalization;
using Crisp.ImageService.Api;
using Crisp.Interop;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Crisp.ImageService.Metadata;

/// <summary>
/// Image metadata in SQLite (WAL): images, their layer chains, repo tags and repo digests. A pull
/// records its image in one transaction after every blob and snapshot exists, so an interrupted
/// pull leaves nothing visible. Reads are served from an in-memory copy kept in step with the
/// database, which keeps the warm-pull and status paths free of disk I/O.
/// </summary>
public sealed partial class MetadataStore : IDisposable
{
    private const int SchemaVersion = 1;

    private readonly string _databasePath;
    private SqliteConnection _connection = null!;
    private readonly ILogger<MetadataStore> _logger;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Row> _images = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _tags = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _repoDigests = new(StringComparer.Ordinal);
    private readonly List<QuarantinedRow> _quarantined = [];
    private Dictionary<string, StoredImage> _view = new(StringComparer.Ordinal);

    private sealed record Row(
        string Id, string ConfigJson, ImageConfig Config, long Size, string ManifestDigest, string? UserSpecified,
        bool Pinned, IReadOnlyList<string> ChainIds, IReadOnlyList<string> DiffIds, DateTimeOffset Created);

    public MetadataStore(string databasePath, ILogger<MetadataStore> logger, TimeProvider? time = null)
    {
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _databasePath = databasePath;
        OwnedDirectory.CreateIfMissing(Path.GetDirectoryName(Path.GetFullPath(databasePath))!, FileModes.PrivateDirectory);
        _connection = OpenAndLoad();
    }

    /// <summary>Where an unusable database file was moved at this start, or null.</summary>
    public string? SetAsideDatabase { get; private set; }

    /// <summary>
    /// Rows moved aside as unreadable (this start or earlier, until an operator clears the table), and a set-aside
    /// file. While any exists, garbage collection cannot tell what the lost images referenced.
    /// </summary>
    public IReadOnlyList<QuarantinedRow> Quarantined
    {
        get { lock (_gate) return [.. _quarantined]; }
    }

    private SqliteConnection OpenAndLoad()
    {
        try
        {
            Open();
            CreateSchema();
            Load();
            return _connection;
        }
        catch (Exception ex) when (DamagedDatabase.IsDamage(ex))
        {
            _connection?.Dispose();
            _images.Clear();
            _tags.Clear();
            _repoDigests.Clear();
            _quarantined.Clear();
            DateTimeOffset now = _time.GetUtcNow();
            string aside = DamagedDatabase.SetAside(_databasePath, now);
            LogDatabaseSetAside(_databasePath, aside, ex.Message);
            _connection = Open();
            CreateSchema();
            Load();
            _quarantined.Add(Quarantine.RecordSetAside(_connection, aside,
                $"{_databasePath} was unusable ({ex.Message}); started with a fresh one: images must be pulled again", now));
            SetAsideDatabase = aside;
            return _connection;
        }
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = _databasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
        }.ToString());
        connection.Open();
        _connection = connection;
        Execute("PRAGMA journal_mode=WAL;");
        OwnedFile.RestrictSqliteDatabase(_databasePath);
        Execute("PRAGMA synchronous=FULL;");
        Execute("PRAGMA foreign_keys=ON;");
        return connection;
    }

    public IReadOnlyCollection<StoredImage> List()
    {
        lock (_gate) return _view.Values.ToList();
    }

    public StoredImage? Get(string id)
    {
        lock (_gate) return _view.GetValueOrDefault(id);
    }

    /// <summary>By "registry/repository:tag".</summary>
    public StoredImage? FindByTag(string taggedName)
    {
        lock (_gate) return _tags.TryGetValue(taggedName, out string? id) ? _view.GetValueOrDefault(id) : null;
    }

    /// <summary>By "registry/repository@sha256:…".</summary>
    public StoredImage? FindByRepoDigest(string digestedName)
    {
        lock (_gate) return _repoDigests.TryGetValue(digestedName, out string? id) ? _view.GetValueOrDefault(id) : null;
    }

    /// <summary>Images whose id hex starts with <paramref name="hexPrefix"/>.</summary>
    public IReadOnlyList<StoredImage> FindByIdPrefix(string hexPrefix)
    {
        string prefix = References.Digests.Sha256Prefix + hexPrefix;
        lock (_gate) return _view.Values.Where(image => image.Id.StartsWith(prefix, StringComparison.Ordinal)).ToList();
    }

    /// <summary>
    /// Records a pulled image (or finds it already recorded) and points <paramref name="tag"/> and
    /// <paramref name="repoDigest"/> at it; a tag that pointed at another image moves.
    /// </summary>
    public StoredImage Record(NewImage image, string? tag, string? repoDigest, string? userSpecified)
    {
        lock (_gate)
        {
            bool known = _images.TryGetValue(image.Id, out Row? existing);
            bool tagCurrent = tag is null || (_tags.TryGetValue(tag, out string? tagged) && tagged == image.Id);
            bool digestCurrent = repoDigest is null || (_repoDigests.TryGetValue(repoDigest, out string? digested) && digested == image.Id);
            bool userCurrent = userSpecified is null || existing?.UserSpecified == userSpecified;
            if (known && tagCurrent && digestCurrent && userCurrent) return _view[image.Id];

            using SqliteTransaction transaction = _connection.BeginTransaction();
            if (!known)
            {
                Execute("INSERT INTO images(id, config_json, size, manifest_digest, user_specified, pinned, created_unix_ms) VALUES($id, $config, $size, $manifest, $user, 0, $created)",
                    transaction, ("$id", image.Id), ("$config", image.Config.RawJson), ("$size", image.Size), ("$manifest", image.ManifestDigest),
                    ("$user", userSpecified), ("$created", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
                for (int i = 0; i < image.ChainIds.Count; i++)
                {
                    Execute("INSERT INTO layers(image_id, position, chain_id, diff_id) VALUES($id, $position, $chain, $diff)",
                        transaction, ("$id", image.Id), ("$position", i), ("$chain", image.ChainIds[i]), ("$diff", image.DiffIds[i]));
                }
            }
            else if (!userCurrent)
            {
                Execute("UPDATE images SET user_specified = $user WHERE id = $id", transaction, ("$id", image.Id), ("$user", userSpecified));
            }
            if (!tagCurrent)
            {
                Execute("INSERT INTO tags(name, image_id) VALUES($name, $id) ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id",
                    transaction, ("$name", tag), ("$id", image.Id));
            }
            if (!digestCurrent)
            {
                Execute("INSERT INTO repo_digests(name, image_id) VALUES($name, $id) ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id",
                    transaction, ("$name", repoDigest), ("$id", image.Id));
            }
            transaction.Commit();

            if (!known)
            {
                _images[image.Id] = new Row(image.Id, image.Config.RawJson, image.Config, image.Size, image.ManifestDigest, userSpecified,
                    false, image.ChainIds, image.DiffIds, DateTimeOffset.UtcNow);
            }
            else if (!userCurrent)
            {
                _images[image.Id] = existing! with { UserSpecified = userSpecified };
            }
            if (tag is not null) _tags[tag] = image.Id;
            if (repoDigest is not null) _repoDigests[repoDigest] = image.Id;
            RebuildView();
            return _view[image.Id];
        }
    }

    /// <summary>Deletes the image with all its tags and repo digests; false when it was not recorded.</summary>
    public bool Remove(string id)
    {
        lock (_gate)
        {
            if (!_images.ContainsKey(id)) return false;
            using SqliteTransaction transaction = _connection.BeginTransaction();
            Execute("DELETE FROM tags WHERE image_id = $id", transaction, ("$id", id));
            Execute("DELETE FROM repo_digests WHERE image_id = $id", transaction, ("$id", id));
            Execute("DELETE FROM layers WHERE image_id = $id", transaction, ("$id", id));
            Execute("DELETE FROM images WHERE id = $id", transaction, ("$id", id));
            transaction.Commit();
            _images.Remove(id);
            RemoveWhere(_tags, id);
            RemoveWhere(_repoDigests, id);
            RebuildView();
            return true;
        }
    }

    /// <summary>Marks an image as never removable (or removable again).</summary>
    public void SetPinned(string id, bool pinned)
    {
        lock (_gate)
        {
            if (!_images.TryGetValue(id, out Row? row) || row.Pinned == pinned) return;
            Execute("UPDATE images SET pinned = $pinned WHERE id = $id", null, ("$id", id), ("$pinned", pinned ? 1 : 0));
            _images[id] = row with { Pinned = pinned };
            RebuildView();
        }
    }

    public void Dispose() => _connection.Dispose();

    private static void RemoveWhere(Dictionary<string, string> map, string id)
    {
        foreach (string key in map.Where(pair => pair.Value == id).Select(pair => pair.Key).ToList()) map.Remove(key);
    }

    private void RebuildView()
    {
        var tags = _tags.GroupBy(pair => pair.Value).ToDictionary(g => g.Key, g => g.Select(p => p.Key).Order(StringComparer.Ordinal).ToList());
        var digests = _repoDigests.GroupBy(pair => pair.Value).ToDictionary(g => g.Key, g => g.Select(p => p.Key).Order(StringComparer.Ordinal).ToList());
        var view = new Dictionary<string, StoredImage>(StringComparer.Ordinal);
        foreach (Row row in _images.Values)
        {
            view[row.Id] = new StoredImage(row.Id, row.Config, row.Size, row.ManifestDigest, row.UserSpecified, row.Pinned,
                row.ChainIds, row.DiffIds, tags.GetValueOrDefault(row.Id) ?? [], digests.GetValueOrDefault(row.Id) ?? [], row.Created);
        }
        _view = view;
    }

    private void CreateSchema()
    {
        Execute("""
            CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS images(
                id TEXT PRIMARY KEY,
                config_json TEXT NOT NULL,
                size INTEGER NOT NULL,
                manifest_digest TEXT NOT NULL,
                user_specified TEXT,
                pinned INTEGER NOT NULL DEFAULT 0,
                created_unix_ms INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS layers(
                image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
                position INTEGER NOT NULL,
                chain_id TEXT NOT NULL,
                diff_id TEXT NOT NULL,
                PRIMARY KEY(image_id, position));
            CREATE TABLE IF NOT EXISTS tags(
                name TEXT PRIMARY KEY,
                image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE);
            CREATE TABLE IF NOT EXISTS repo_digests(
                name TEXT PRIMARY KEY,
                image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE);
            """ + Quarantine.CreateTable);
        DamagedDatabase.RequireColumns(_connection, "images", "id", "config_json", "size", "manifest_digest", "user_specified", "pinned", "created_unix_ms");
        DamagedDatabase.RequireColumns(_connection, "layers", "image_id", "position", "chain_id", "diff_id");
        DamagedDatabase.RequireColumns(_connection, "tags", "name", "image_id");
        DamagedDatabase.RequireColumns(_connection, "repo_digests", "name", "image_id");
        DamagedDatabase.RequireColumns(_connection, "quarantine", "source", "id", "reason", "raw", "quarantined_unix_ms");
        using SqliteCommand version = _connection.CreateCommand();
        version.CommandText = "SELECT version FROM schema_version LIMIT 1";
        object? current = version.ExecuteScalar();
        if (current is null)
        {
            Execute($"INSERT INTO schema_version(version) VALUES({SchemaVersion})");
        }
        else if (Convert.ToInt32(current, System.Globalization.CultureInfo.InvariantCulture) != SchemaVersion)
        {
            throw new ImageServiceException(ImageErrorKind.FailedPrecondition,
                $"image metadata database {_connection.DataSource} has schema version {current}; this crisp understands {SchemaVersion}");
        }
    }

    /// <summary>
    /// Loads every image it can. An image row, or one of its layer rows, that cannot be read (wrong type, NULL, bad
    /// JSON, a chain that does not match the config's diff ids) is moved to the quarantine table with its layers,
    /// tags and digests kept in the entry; an unreadable tag or digest row is quarantined on its own.
    /// </summary>
    private void Load()
    {
        _quarantined.AddRange(Quarantine.ReadAll(_connection));
        var layers = new Dictionary<string, SortedList<long, (string Chain, string Diff)>>(StringComparer.Ordinal);
        var damagedLayers = new Dictionary<string, string>(StringComparer.Ordinal);
        using (SqliteCommand command = _connection.CreateCommand())
        {
            command.CommandText = "SELECT image_id, position, chain_id, diff_id FROM layers";
            using SqliteDataReader reader = command.ExecuteReader();
            while (reader.Read())
            {
                string id = reader.IsDBNull(0) ? "" : Convert.ToString(reader.GetValue(0), CultureInfo.InvariantCulture) ?? "";
                try
                {
                    long position = Integer(reader, 1, "layers.position");
                    if (!layers.TryGetValue(id, out var list)) layers[id] = list = [];
                    if (!list.TryAdd(position, (Digest(reader, 2, "layers.chain_id"), Digest(reader, 3, "layers.diff_id"))))
                        throw new FormatException($"layer position {position} appears twice");
                }
                catch (FormatException ex)
                {
                    damagedLayers.TryAdd(id, ex.Message);
                }
            }
        }
        var unreadable = new List<(long RowId, string Id, string Reason)>();
        using (SqliteCommand command = _connection.CreateCommand())
        {
            command.CommandText = "SELECT rowid, id, config_json, size, manifest_digest, user_specified, pinned, created_unix_ms FROM images";
            using SqliteDataReader reader = command.ExecuteReader();
            while (reader.Read())
            {
                long rowId = reader.GetInt64(0);
                string id = reader.IsDBNull(1) ? "" : Convert.ToString(reader.GetValue(1), CultureInfo.InvariantCulture) ?? "";
                try
                {
                    _images[id] = ReadImage(reader, id, layers.GetValueOrDefault(id), damagedLayers.GetValueOrDefault(id));
                }
                catch (Exception ex) when (ex is FormatException or ImageServiceException or ArgumentException)
                {
                    unreadable.Add((rowId, id, ex.Message));
                }
            }
        }
        foreach ((long rowId, string id, string reason) in unreadable)
        {
            // The layers, tags and digests would go with the row (ON DELETE CASCADE): keep them in the entry.
            const string related =
                "json_object('layers', (SELECT json_group_array(json_object('position', quote(position), 'chain_id', quote(chain_id), 'diff_id', quote(diff_id))) FROM layers WHERE image_id = images.id), " +
                "'tags', (SELECT json_group_array(quote(name)) FROM tags WHERE image_id = images.id), " +
                "'repo_digests', (SELECT json_group_array(quote(name)) FROM repo_digests WHERE image_id = images.id))";
            _quarantined.Add(Quarantine.Move(_connection, "images", rowId, id, reason, _time.GetUtcNow(), related));
            LogUnreadableImage(id, reason);
        }
        LoadMap("tags", _tags);
        LoadMap("repo_digests", _repoDigests);
        RebuildView();
    }

    private static Row ReadImage(SqliteDataReader reader, string id, SortedList<long, (string Chain, string Diff)>? chain, string? layerDamage)
    {
        if (!References.Digests.IsValid(id)) throw new FormatException($"image id \"{id}\" is not a sha256 digest");
        if (layerDamage is not null) throw new FormatException($"a layer row is unreadable: {layerDamage}");
        string json = Text(reader, 2, "images.config_json");
        ImageConfigDocument document = ImageConfigDocument.Parse(json, id);
        var chainIds = chain?.Values.Select(l => l.Chain).ToList() ?? [];
        var diffIds = chain?.Values.Select(l => l.Diff).ToList() ?? [];
        if (!diffIds.SequenceEqual(document.DiffIds))
            throw new FormatException($"its {diffIds.Count} layer rows do not match the {document.DiffIds.Count} diff ids of its config");
        long size = Integer(reader, 3, "images.size");
        if (size < 0) throw new FormatException($"images.size is negative ({size})");
        string manifest = Digest(reader, 4, "images.manifest_digest");
        string? userSpecified = reader.IsDBNull(5) ? null : Text(reader, 5, "images.user_specified");
        long pinned = Integer(reader, 6, "images.pinned");
        var created = DateTimeOffset.FromUnixTimeMilliseconds(Integer(reader, 7, "images.created_unix_ms"));
        return new Row(id, json, document.Config, size, manifest, userSpecified, pinned != 0, chainIds, diffIds, created);
    }

    private static string Text(SqliteDataReader reader, int ordinal, string column) => reader.GetValue(ordinal) switch
    {
        string text => text,
        DBNull => throw new FormatException($"{column} is NULL"),
        var other => throw new FormatException($"{column} is {other.GetType().Name}, not text"),
    };

    // SQLite converts text to 0 when asked for an integer; a number stored as text is damage, not zero.
    private static long Integer(SqliteDataReader reader, int ordinal, string column) => reader.GetValue(ordinal) switch
    {
        long number => number,
        DBNull => throw new FormatException($"{column} is NULL"),
        var other => throw new FormatException($"{column} is {other.GetType().Name}, not an integer"),
    };

    private static string Digest(SqliteDataReader reader, int ordinal, string column)
    {
        string value = Text(reader, ordinal, column);
        return References.Digests.IsValid(value) ? value : throw new FormatException($"{column} \"{value}\" is not a sha256 digest");
    }

    private void LoadMap(string table, Dictionary<string, string> map)
    {
        var unreadable = new List<(long RowId, string Name, string Reason)>();
        using (SqliteCommand command = _connection.CreateCommand())
        {
            command.CommandText = $"SELECT rowid, name, image_id FROM {table}";
            using SqliteDataReader reader = command.ExecuteReader();
            while (reader.Read())
            {
                string name = reader.IsDBNull(1) ? "" : Convert.ToString(reader.GetValue(1), CultureInfo.InvariantCulture) ?? "";
                try
                {
                    string imageId = Text(reader, 2, $"{table}.image_id");
                    if (_images.ContainsKey(Text(reader, 1, $"{table}.name") is { Length: > 0 } ? imageId : throw new FormatException($"{table}.name is empty")))
                        map[name] = imageId;
                }
                catch (FormatException ex)
                {
                    unreadable.Add((reader.GetInt64(0), name, ex.Message));
                }
            }
        }
        foreach ((long rowId, string name, string reason) in unreadable)
        {
            _quarantined.Add(Quarantine.Move(_connection, table, rowId, name, reason, _time.GetUtcNow()));
            LogUnreadableImage(name, reason);
        }
    }

    private void Execute(string sql, SqliteTransaction? transaction = null, params (string Name, object? Value)[] parameters)
    {
        using SqliteCommand command = _connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        foreach ((string name, object? value) in parameters) command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        command.ExecuteNonQuery();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Image metadata row {Id} is unreadable ({Reason}); moved to the quarantine table and not served")]
    private partial void LogUnreadableImage(string id, string reason);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Image metadata database {Path} is unusable ({Reason}); moved it to {Aside} and starting with a fresh one")]
    private partial void LogDatabaseSetAside(string path, string aside, string reason);
}
