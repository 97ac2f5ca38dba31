using Crisp.ImageService.Api;
using Crisp.Interop;
using Crisp.Interop.Procfs;

namespace Crisp.ImageService.Snapshots;

/// <summary>
/// Disk use of a snapshot tree (allocated bytes, inodes; hard links counted once) and the mount
/// it lives on. Walking the tree is not free, so a result is reused briefly unless a pull or
/// removal changed the tree.
/// </summary>
public sealed class SnapshotUsage
{
    private static readonly TimeSpan CacheLifetime = TimeSpan.FromSeconds(5);
    private readonly Func<IEnumerable<string>> _treesToWalk;
    private readonly string _root;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _walkGate = new(1, 1);
    private FilesystemUsage? _cached;
    private long _cachedAt;
    private int _generation;
    private int _cachedGeneration = -1;

    /// <summary>Image snapshots: everything under <paramref name="snapshotsDirectory"/>, on the mount holding <paramref name="root"/>.</summary>
    public SnapshotUsage(string snapshotsDirectory, string root, TimeProvider? time = null)
        : this(() => [snapshotsDirectory], root, time)
    {
    }

    private SnapshotUsage(Func<IEnumerable<string>> treesToWalk, string root, TimeProvider? time)
    {
        _treesToWalk = treesToWalk;
        _root = root;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>
    /// Container writable layers: only each "&lt;containersDirectory&gt;/&lt;id&gt;/upper", never the
    /// container's merged rootfs mount next to it, which would count the image layers again.
    /// </summary>
    public static SnapshotUsage ForContainerUpperDirs(string containersDirectory, TimeProvider? time = null) =>
        new(() => UpperDirsIn(containersDirectory), containersDirectory, time);

    private static IEnumerable<string> UpperDirsIn(string containersDirectory)
    {
        try
        {
            return Directory.EnumerateDirectories(containersDirectory).Select(container => Path.Combine(container, "upper")).ToList();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return []; // no container was ever created, or the runtime removed the tree meanwhile
        }
    }

    /// <summary>Forgets the cached figure (the tree changed).</summary>
    public void Invalidate() => Interlocked.Increment(ref _generation);

    public async Task<FilesystemUsage> GetAsync(CancellationToken cancellationToken)
    {
        await _walkGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            int generation = Volatile.Read(ref _generation);
            if (_cached is { } cached && _time.GetElapsedTime(_cachedAt) < CacheLifetime && generation == _cachedGeneration) return cached;
            FilesystemUsage usage = await Task.Run(() => Walk(cancellationToken), cancellationToken).ConfigureAwait(false);
            _cached = usage;
            _cachedAt = _time.GetTimestamp();
            _cachedGeneration = generation;
            return usage;
        }
        finally
        {
            _walkGate.Release();
        }
    }

    private FilesystemUsage Walk(CancellationToken cancellationToken)
    {
        ulong bytes = 0;
        ulong inodes = 0;
        var seenLinks = new HashSet<ulong>();
        // A hand-rolled walk with lstat: .NET's recursive enumeration descends through symlinks to
        // directories, and snapshots are full of links a layer chose.
        var pending = new Stack<string>(_treesToWalk());
        while (pending.TryPop(out string? directory))
        {
            IEnumerable<string> children;
            try
            {
                children = Directory.EnumerateFileSystemEntries(directory).ToList();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue; // removed or unreadable while we walked
            }
            foreach (string path in children)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Libc.EntryStatus? status;
                try
                {
                    status = Libc.StatNoFollow(path);
                }
                catch (SyscallException)
                {
                    continue;
                }
                if (status is not { } entry) continue;
                if (entry.IsDirectory) pending.Push(path);
                if (entry.LinkCount > 1 && !entry.IsDirectory && !seenLinks.Add(entry.Inode)) continue;
                inodes++;
                bytes += entry.Blocks * 512;
            }
        }
        return new FilesystemUsage(MountpointOf(_root), bytes, inodes);
    }

    /// <summary>The mount point of the filesystem holding <paramref name="path"/>, from /proc/self/mountinfo.</summary>
    public static string MountpointOf(string path)
    {
        try
        {
            return MountTable.ReadSelf().MountContaining(path)?.MountPoint ?? "/";
        }
        catch (IOException)
        {
            return "/"; // without mountinfo the root mount is the honest fallback
        }
    }
}
