using Crisp.Interop;

namespace Crisp.Runtime.Host;

/// <summary>
/// Replaces a file all at once: written beside it with its final mode, flushed to disk, then renamed over it. A
/// reader (or a crispd restarted after a crash or power loss) sees the old content or the new, never a torn file.
/// </summary>
public static class AtomicFile
{
    public static async Task WriteAsync(string path, ReadOnlyMemory<byte> content, UnixFileMode mode, CancellationToken ct)
    {
        OwnedDirectory.CreateIfMissing(Path.GetDirectoryName(path)!, FileModes.PrivateDirectory);
        var temp = path + ".tmp";
        var stream = OwnedFile.Open(temp, new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Options = FileOptions.Asynchronous }, mode);
        await using (stream.ConfigureAwait(false))
        {
            await stream.WriteAsync(content, ct).ConfigureAwait(false);
            await stream.FlushAsync(ct).ConfigureAwait(false);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>The same, for start-up code that runs before anything async can (the daemon's host builder).</summary>
    public static void Write(string path, ReadOnlySpan<byte> content, UnixFileMode mode)
    {
        OwnedDirectory.CreateIfMissing(Path.GetDirectoryName(path)!, FileModes.PrivateDirectory);
        var temp = path + ".tmp";
        using (var stream = OwnedFile.Open(temp, new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write }, mode))
        {
            stream.Write(content);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }
}
