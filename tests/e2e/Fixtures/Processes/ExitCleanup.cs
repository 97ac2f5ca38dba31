using System.Collections.Concurrent;
using System.Diagnostics;

namespace Crisp.E2E.Fixtures;

/// <summary>
/// Last line of defence when a test run ends without disposing its fixtures (crash, Ctrl-C, forgotten
/// dispose): kills the processes and removes the temp directories still registered when the test process exits.
/// </summary>
public static class ExitCleanup
{
    private static readonly ConcurrentDictionary<Process, byte> Processes = new();
    private static readonly ConcurrentDictionary<string, byte> Directories = new();

    static ExitCleanup()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => RunNow();
    }

    public static void Track(Process process) => Processes.TryAdd(process, 0);

    public static void Untrack(Process process) => Processes.TryRemove(process, out _);

    public static void TrackDirectory(string path) => Directories.TryAdd(path, 0);

    public static void UntrackDirectory(string path) => Directories.TryRemove(path, out _);

    private static void RunNow()
    {
        foreach (var process in Processes.Keys)
        {
            ToolRunner.KillQuietly(process);
        }

        foreach (var directory in Directories.Keys)
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
                // Best effort at exit; a leftover temp dir is harmless.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }
}
