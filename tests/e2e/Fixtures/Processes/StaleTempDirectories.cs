namespace Crisp.E2E.Fixtures;

/// <summary>
/// Removes temp directories named "PREFIX&lt;pid&gt;-*" whose process is gone. The test host can be killed by the
/// runner while its exit cleanup is still deleting, so the next run finishes the job.
/// </summary>
internal static class StaleTempDirectories
{
    public static void Sweep(string prefix)
    {
        foreach (var directory in Directory.EnumerateDirectories(Path.GetTempPath(), prefix + "*"))
        {
            if (!IsOrphaned(directory, prefix))
            {
                continue;
            }

            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
                // Another test process may be sweeping the same directory right now.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    /// <summary>True when <paramref name="path"/> is inside a "PREFIX&lt;pid&gt;-*" temp directory of a process that is gone.</summary>
    public static bool IsOrphaned(string path, string prefix)
    {
        var tempRoot = Path.GetTempPath();
        if (!path.StartsWith(tempRoot + prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = path[(tempRoot.Length + prefix.Length)..];
        var dash = rest.IndexOf('-');
        return dash > 0 && int.TryParse(rest[..dash], out var pid) && pid != Environment.ProcessId && !Directory.Exists($"/proc/{pid}");
    }
}
