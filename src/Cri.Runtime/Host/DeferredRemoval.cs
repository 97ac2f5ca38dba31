using Crisp.Runtime.Rootfs;
using Crisp.Runtime.State;
using Microsoft.Extensions.Logging;

namespace Crisp.Runtime.Host;

/// <summary>
/// Takes the deletion of a removed container's directories off the RPC's time, as containerd's snapshot GC does:
/// each directory is renamed into the trash of its tree (one rename on the same filesystem) and the trash is
/// emptied in the background. Deleting a writable layer and a bundle is a dozen unlinks and rmdirs that each wait on
/// the filesystem's journal, tens of milliseconds on a busy disk, and more with every file the container wrote.
/// Nothing is lost at a crash: whatever the trash holds is garbage by construction, and the start-up sweep empties it.
/// The trash is never emptied through a mount: an entry with anything mounted below it stays, and is logged.
/// </summary>
public sealed partial class DeferredRemoval(RuntimeLayout layout, IRuntimeMounts mounts, ILogger<DeferredRemoval> logger)
{
    private readonly Lock _sweepGate = new();
    private Task _sweep = Task.CompletedTask;
    private bool _sweepAgain;

    /// <summary>
    /// Moves each existing directory into the trash and has the trash emptied soon. Returns the directories that
    /// could not be moved there (not under root or state_dir, or on a filesystem of their own): the caller deletes
    /// those itself.
    /// </summary>
    public IReadOnlyList<string> MoveAside(params string[] directories)
    {
        var notMoved = new List<string>();
        foreach (var directory in directories)
        {
            if (!Directory.Exists(directory)) continue;
            if (TrashFor(directory) is not { } trash)
            {
                notMoved.Add(directory);
                continue;
            }
            try
            {
                Directory.Move(directory, Path.Combine(trash, $"{Path.GetFileName(Path.TrimEndingDirectorySeparator(directory))}.{ObjectIds.New()[..16]}"));
            }
            catch (IOException ex)
            {
                Log.NotMovedAside(logger, ex, directory);
                notMoved.Add(directory);
            }
        }
        ScheduleSweep();
        return notMoved;
    }

    /// <summary>Empties the trash in the background; one sweep runs at a time, and a request during one makes it run again.</summary>
    public Task ScheduleSweep()
    {
        lock (_sweepGate)
        {
            if (!_sweep.IsCompleted)
            {
                _sweepAgain = true;
                return _sweep;
            }
            _sweep = Task.Run(SweepUntilIdle);
            return _sweep;
        }
    }

    private void SweepUntilIdle()
    {
        while (true)
        {
            Sweep();
            lock (_sweepGate)
            {
                if (!_sweepAgain) return;
                _sweepAgain = false;
            }
        }
    }

    /// <summary>Deletes every trash entry that has nothing mounted below it.</summary>
    internal void Sweep()
    {
        foreach (var trash in new[] { layout.RootTrash, layout.StateTrash })
        {
            IEnumerable<string> entries;
            try { entries = Directory.EnumerateFileSystemEntries(trash).ToList(); }
            catch (DirectoryNotFoundException) { continue; }
            foreach (var entry in entries)
            {
                try
                {
                    var stillMounted = mounts.MountsUnder(entry);
                    if (stillMounted.Count > 0)
                    {
                        Log.StillMounted(logger, entry, string.Join(", ", stillMounted));
                        continue;
                    }
                    if (Directory.Exists(entry)) Directory.Delete(entry, recursive: true);
                    else File.Delete(entry);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    Log.SweepFailed(logger, ex, entry);
                }
            }
        }
    }

    /// <summary>The trash on the same tree (and so, normally, the same filesystem) as <paramref name="directory"/>.</summary>
    private string? TrashFor(string directory)
    {
        var full = Path.GetFullPath(directory);
        // The deeper root wins when one tree holds the other.
        return new[] { (Root: layout.Root, Trash: layout.RootTrash), (Root: layout.StateDir, Trash: layout.StateTrash) }
            .Select(t => (Root: Path.TrimEndingDirectorySeparator(Path.GetFullPath(t.Root)), t.Trash))
            .Where(t => full.StartsWith(t.Root + "/", StringComparison.Ordinal))
            .OrderByDescending(t => t.Root.Length)
            .Select(t => t.Trash)
            .FirstOrDefault();
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "{Directory} could not be moved to the trash; deleting it in place")]
        public static partial void NotMovedAside(ILogger logger, Exception exception, string directory);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Trash entry {Entry} still has mounts below it ({Mounts}); it stays until they are gone")]
        public static partial void StillMounted(ILogger logger, string entry, string mounts);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Trash entry {Entry} could not be deleted; the next sweep tries again")]
        public static partial void SweepFailed(ILogger logger, Exception exception, string entry);
    }
}
