using System.Text;

namespace Crisp.Interop;

/// <summary>
/// Creates files with exactly the mode asked for: set at open and again on the handle, so neither the umask nor
/// the mode of a file being replaced decides who may read it.
/// </summary>
public static class OwnedFile
{
    /// <summary>SQLite's companions of a database file: WAL, shared memory, rollback journal.</summary>
    private static readonly string[] SqliteSuffixes = ["", "-wal", "-shm", "-journal"];

    /// <summary>Opens with <paramref name="options"/> (a creating FileMode) and gives the file <paramref name="mode"/>.</summary>
    public static FileStream Open(string path, FileStreamOptions options, UnixFileMode mode)
    {
        options.UnixCreateMode = mode;
        var stream = new FileStream(path, options);
        try
        {
            File.SetUnixFileMode(stream.SafeFileHandle, mode);
            return stream;
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Creates or truncates <paramref name="path"/>, writes <paramref name="content"/>, mode <paramref name="mode"/>.</summary>
    public static async Task WriteAsync(string path, ReadOnlyMemory<byte> content, UnixFileMode mode, CancellationToken ct)
    {
        var stream = Open(path, new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Options = FileOptions.Asynchronous }, mode);
        await using (stream.ConfigureAwait(false))
            await stream.WriteAsync(content, ct).ConfigureAwait(false);
    }

    /// <summary>UTF-8 (no BOM) text, as File.WriteAllTextAsync writes it.</summary>
    public static Task WriteTextAsync(string path, string text, UnixFileMode mode, CancellationToken ct) =>
        WriteAsync(path, Encoding.UTF8.GetBytes(text), mode, ct);

    /// <summary>
    /// Makes a SQLite database and its companions 0600. Call once it is open: SQLite creates later -wal and -shm
    /// files with the database file's mode, and this tightens the ones an older crispd left readable.
    /// </summary>
    public static void RestrictSqliteDatabase(string databasePath)
    {
        foreach (var suffix in SqliteSuffixes)
        {
            try
            {
                File.SetUnixFileMode(databasePath + suffix, FileModes.PrivateFile);
            }
            catch (FileNotFoundException)
            {
                // A companion only exists while SQLite needs it.
            }
        }
    }
}
