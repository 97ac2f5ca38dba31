using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Crisp.ImageService.Metadata;

/// <summary>A database file crisp cannot use at all: not SQLite, corrupt pages, or tables missing their columns.</summary>
public sealed class DamagedDatabaseException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Recognises a SQLite database file that is beyond row-by-row repair and moves it (with its WAL and shared-memory
/// files) aside under a timestamped name, so the daemon can start on a fresh file and the old one stays for forensics.
/// Shared by the runtime state database and the image metadata database.
/// </summary>
public static class DamagedDatabase
{
    private const int SqliteCorrupt = 11;
    private const int SqliteNotADatabase = 26;

    /// <summary>True for "database disk image is malformed" and "file is not a database"; never for busy or I/O errors.</summary>
    public static bool IsDamage(Exception exception) =>
        exception is DamagedDatabaseException
        || exception is SqliteException { SqliteErrorCode: SqliteCorrupt or SqliteNotADatabase };

    /// <summary>Fails with <see cref="DamagedDatabaseException"/> when <paramref name="table"/> lacks one of <paramref name="columns"/>.</summary>
    public static void RequireColumns(SqliteConnection connection, string table, params string[] columns)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT name FROM pragma_table_info('{table}')";
        var present = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read()) present.Add(reader.GetString(0));
        }
        var missing = columns.Where(c => !present.Contains(c)).ToList();
        if (missing.Count > 0)
            throw new DamagedDatabaseException($"table {table} of {connection.DataSource} lacks column(s) {string.Join(", ", missing)}");
    }

    /// <summary>
    /// Renames <paramref name="databasePath"/> to "&lt;name&gt;.damaged-&lt;UTC time&gt;" (and its -wal/-shm alongside);
    /// returns the new path. The caller must have closed every connection to it.
    /// </summary>
    public static string SetAside(string databasePath, DateTimeOffset now)
    {
        var aside = $"{databasePath}.damaged-{now.UtcDateTime.ToString("yyyyMMdd'T'HHmmssfff'Z'", CultureInfo.InvariantCulture)}";
        File.Move(databasePath, aside);
        foreach (var suffix in new[] { "-wal", "-shm" })
        {
            if (File.Exists(databasePath + suffix)) File.Move(databasePath + suffix, aside + suffix);
        }
        return aside;
    }
}
