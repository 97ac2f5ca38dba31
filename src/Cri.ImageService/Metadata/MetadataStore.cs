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

    private readonly SqliteConnection _connection;
    private readonly ILogger<MetadataStore> _logger;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Row> _images = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _tags = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _repoDigests = new(StringComparer.Ordinal);
    private Dictionary<string, StoredImage> _view = new(StringComparer.Ordinal);

    private sealed record Row(
        string Id, string ConfigJson, ImageConfig Config, long Size, string ManifestDigest, string? UserSpecified,
        bool Pinned, IReadOnlyList<string> ChainIds, IReadOnlyList<string> DiffIds, DateTimeOffset Created);

    public MetadataStore(string databasePath, ILogger<MetadataStore> logger)
    {
        _logger = logger;
        OwnedDirectory.CreateIfMissing(Path.GetDirectoryName(Path.GetFullPath(databasePath))!, FileModes.PrivateDirectory);
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
        }.ToString());
        _connection.Open();
        Execute("PRAGMA journal_mode=WAL;");
        OwnedFile.RestrictSqliteDatabase(databasePath);
        Execute("PRAGMA synchronous=FULL;");
        Execute("PRAGMA foreign_keys=ON;");
        CreateSchema();
        Load();
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
            """);
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

    private void Load()
    {
        var layers = new Dictionary<string, SortedList<long, (string Chain, string Diff)>>(StringComparer.Ordinal);
        using (SqliteCommand command = _connection.CreateCommand())
        {
            command.CommandText = "SELECT image_id, position, chain_id, diff_id FROM layers";
            using SqliteDataReader reader = command.ExecuteReader();
            while (reader.Read())
            {
                string id = reader.GetString(0);
                if (!layers.TryGetValue(id, out var list)) layers[id] = list = [];
                list[reader.GetInt64(1)] = (reader.GetString(2), reader.GetString(3));
            }
        }
        using (SqliteCommand command = _connection.CreateCommand())
        {
            command.CommandText = "SELECT id, config_json, size, manifest_digest, user_specified, pinned, created_unix_ms FROM images";
            using SqliteDataReader reader = command.ExecuteReader();
            while (reader.Read())
            {
                string id = reader.GetString(0);
                string json = reader.GetString(1);
                ImageConfig config;
                try
                {
                    config = ImageConfigDocument.Parse(json, id).Config;
                }
                catch (ImageServiceException ex)
                {
                    LogUnreadableImage(id, ex.Message);
                    continue;
                }
                var chain = layers.GetValueOrDefault(id);
                _images[id] = new Row(id, json, config, reader.GetInt64(2), reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4),
                    reader.GetInt64(5) != 0, chain?.Values.Select(l => l.Chain).ToList() ?? [], chain?.Values.Select(l => l.Diff).ToList() ?? [],
                    DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(6)));
            }
        }
        LoadMap("SELECT name, image_id FROM tags", _tags);
        LoadMap("SELECT name, image_id FROM repo_digests", _repoDigests);
        RebuildView();
    }

    private void LoadMap(string query, Dictionary<string, string> map)
    {
        using SqliteCommand command = _connection.CreateCommand();
        command.CommandText = query;
        using SqliteDataReader reader = command.ExecuteReader();
        while (reader.Read())
        {
            if (_images.ContainsKey(reader.GetString(1))) map[reader.GetString(0)] = reader.GetString(1);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignoring image {Id} in the metadata database: {Reason}")]
    private partial void LogUnreadableImage(string id, string reason);
}
