using Microsoft.Data.Sqlite;

namespace Crisp.ImageService.Metadata;

/// <summary>One row moved aside because it could not be read, or the record of a whole database file set aside.</summary>
public sealed record QuarantinedRow(string Source, string Id, string Reason, DateTimeOffset QuarantinedAt);

/// <summary>
/// The "quarantine" table of a crisp database: rows that could not be read are moved here with their exact column
/// values (SQL literals from quote(), so blobs and bad text survive byte for byte) and the reason, instead of being
/// served or silently dropped. While it holds anything, nothing may be garbage-collected on the strength of that
/// database. An operator inspects it with sqlite3 and clears it with DELETE FROM quarantine.
/// </summary>
public static class Quarantine
{
    /// <summary>Source of the entry recording a database file that was unreadable as a whole and set aside.</summary>
    public const string DatabaseFileSource = "database-file";

    public const string CreateTable =
        "CREATE TABLE IF NOT EXISTS quarantine(source TEXT NOT NULL, id TEXT NOT NULL, reason TEXT NOT NULL, raw TEXT, quarantined_unix_ms INTEGER NOT NULL);";

    /// <summary>Every entry, oldest first; an entry that is itself unreadable is reported as such rather than hidden.</summary>
    public static List<QuarantinedRow> ReadAll(SqliteConnection connection)
    {
        var rows = new List<QuarantinedRow>();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT CAST(source AS TEXT), CAST(id AS TEXT), CAST(reason AS TEXT), CAST(quarantined_unix_ms AS INTEGER) FROM quarantine ORDER BY rowid";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var at = reader.IsDBNull(3) ? 0 : Math.Clamp(reader.GetInt64(3), 0, DateTimeOffset.MaxValue.ToUnixTimeMilliseconds());
            rows.Add(new QuarantinedRow(
                reader.IsDBNull(0) ? "?" : reader.GetString(0),
                reader.IsDBNull(1) ? "?" : reader.GetString(1),
                reader.IsDBNull(2) ? "?" : reader.GetString(2),
                DateTimeOffset.FromUnixTimeMilliseconds(at)));
        }
        return rows;
    }

    /// <summary>
    /// Moves the row <paramref name="rowId"/> of <paramref name="table"/> into the quarantine table in one transaction.
    /// <paramref name="extraRaw"/> (an SQL expression over the row, e.g. its dependent rows as JSON) is kept with it.
    /// </summary>
    public static QuarantinedRow Move(SqliteConnection connection, string table, long rowId, string id, string reason, DateTimeOffset now, string? extraRaw = null)
    {
        var columns = new List<string>();
        using (var info = connection.CreateCommand())
        {
            info.CommandText = $"SELECT name FROM pragma_table_info('{table}')";
            using var reader = info.ExecuteReader();
            while (reader.Read()) columns.Add(reader.GetString(0));
        }
        var rowJson = "json_object(" + string.Join(", ", columns.Select(c => $"'{c}', quote(\"{c}\")")) + ")";
        var raw = extraRaw is null ? rowJson : $"json_object('row', json({rowJson}), 'related', json({extraRaw}))";

        using var transaction = connection.BeginTransaction();
        using (var insert = connection.CreateCommand())
        {
            insert.Transaction = transaction;
            insert.CommandText =
                $"INSERT INTO quarantine(source, id, reason, raw, quarantined_unix_ms) SELECT $source, $id, $reason, {raw}, $at FROM \"{table}\" WHERE rowid = $rowid";
            insert.Parameters.AddWithValue("$source", table);
            insert.Parameters.AddWithValue("$id", id);
            insert.Parameters.AddWithValue("$reason", reason);
            insert.Parameters.AddWithValue("$at", now.ToUnixTimeMilliseconds());
            insert.Parameters.AddWithValue("$rowid", rowId);
            insert.ExecuteNonQuery();
        }
        using (var delete = connection.CreateCommand())
        {
            delete.Transaction = transaction;
            delete.CommandText = $"DELETE FROM \"{table}\" WHERE rowid = $rowid";
            delete.Parameters.AddWithValue("$rowid", rowId);
            delete.ExecuteNonQuery();
        }
        transaction.Commit();
        return new QuarantinedRow(table, id, reason, now);
    }

    /// <summary>Records in a fresh database that the previous file was set aside, so the loss stays visible after restarts.</summary>
    public static QuarantinedRow RecordSetAside(SqliteConnection connection, string asidePath, string reason, DateTimeOffset now)
    {
        using var insert = connection.CreateCommand();
        insert.CommandText = "INSERT INTO quarantine(source, id, reason, raw, quarantined_unix_ms) VALUES($source, $id, $reason, NULL, $at)";
        insert.Parameters.AddWithValue("$source", DatabaseFileSource);
        insert.Parameters.AddWithValue("$id", asidePath);
        insert.Parameters.AddWithValue("$reason", reason);
        insert.Parameters.AddWithValue("$at", now.ToUnixTimeMilliseconds());
        insert.ExecuteNonQuery();
        return new QuarantinedRow(DatabaseFileSource, asidePath, reason, now);
    }
}
