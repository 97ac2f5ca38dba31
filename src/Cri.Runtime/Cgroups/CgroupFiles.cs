using System.Globalization;
using System.Text;
using Crisp.Runtime.Api;

namespace Crisp.Runtime.Cgroups;

/// <summary>Reading and writing the small text files of a cgroup directory.</summary>
internal static class CgroupFiles
{
    public static async Task WriteAsync(string dir, string file, string value, CancellationToken ct)
    {
        var path = Path.Combine(dir, file);
        try
        {
            // One write(2) of the whole value: cgroup files act on each write, not on the final content.
            await using var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0);
            await stream.WriteAsync(Encoding.ASCII.GetBytes(value), ct).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            throw new RuntimeException(RuntimeErrorKind.Internal, $"writing \"{value}\" to {path}: {e.Message}", e);
        }
    }

    public static async Task<string?> ReadAsync(string dir, string file, CancellationToken ct)
    {
        try { return await File.ReadAllTextAsync(Path.Combine(dir, file), ct).ConfigureAwait(false); }
        catch (FileNotFoundException) { return null; }
        catch (DirectoryNotFoundException) { return null; }
        catch (IOException) { return null; }
    }

    public static async Task<ulong?> ReadULongAsync(string dir, string file, CancellationToken ct)
    {
        var text = await ReadAsync(dir, file, ct).ConfigureAwait(false);
        return text is not null && ulong.TryParse(text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null;
    }

    /// <summary>"key value" lines (memory.stat, cpu.stat, memory.events, memory.oom_control); a missing file is empty.</summary>
    public static async Task<Dictionary<string, ulong>> ReadKeyValuesAsync(string dir, string file, CancellationToken ct) =>
        CgroupStatParsers.KeyValues(await ReadAsync(dir, file, ct).ConfigureAwait(false));

    /// <summary>rmdir of the tree below and at <paramref name="dir"/>, deepest first; EBUSY (tasks still exiting) is retried briefly.</summary>
    public static async Task RemoveTreeAsync(string dir, CancellationToken ct)
    {
        if (!Directory.Exists(dir)) return;
        foreach (var child in Directory.EnumerateDirectories(dir))
            await RemoveTreeAsync(child, ct).ConfigureAwait(false);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                Directory.Delete(dir, recursive: false);
                return;
            }
            catch (DirectoryNotFoundException) { return; }
            catch (IOException) when (attempt < 20)
            {
                await Task.Delay(50, ct).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                throw new RuntimeException(RuntimeErrorKind.Internal, $"removing cgroup {dir}: {e.Message}", e);
            }
        }
    }

    /// <summary>Stats are plain unsigned counters; subtraction below zero means "nothing".</summary>
    public static ulong Sub(ulong a, ulong b) => a > b ? a - b : 0;
}
