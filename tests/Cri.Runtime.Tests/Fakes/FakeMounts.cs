using System.Collections.Concurrent;
using Crisp.Runtime.Rootfs;

namespace Crisp.Runtime.Tests.Fakes;

/// <summary>A mount table of its own: mounting records the path (creating the directory), unmounting forgets it.</summary>
public sealed class FakeMounts : IRuntimeMounts
{
    private readonly ConcurrentDictionary<string, byte> _mounted = new(StringComparer.Ordinal);

    public Exception? FailMountRootfs { get; set; }
    public Exception? FailMountShm { get; set; }
    public IReadOnlyCollection<string> Mounted => _mounted.Keys.ToList();

    /// <summary>The idmap of each rootfs mounted, by target.</summary>
    public ConcurrentDictionary<string, RootfsIdmap?> RootfsIdmaps { get; } = new(StringComparer.Ordinal);

    public Task MountRootfsAsync(
        IReadOnlyList<string> lowerDirsLowestFirst, string upperDir, string workDir, string target, RootfsIdmap? idmap, CancellationToken ct)
    {
        if (FailMountRootfs is not null) throw FailMountRootfs;
        _mounted[Full(target)] = 0;
        RootfsIdmaps[Full(target)] = idmap;
        return Task.CompletedTask;
    }

    /// <summary>How many times an image volume was mounted (a shared one must be mounted once).</summary>
    public int ImageVolumeMounts => Volatile.Read(ref _imageVolumeMounts);
    private int _imageVolumeMounts;

    /// <summary>The user namespace each image volume mount was idmapped through (null: not idmapped), by mount point.</summary>
    public ConcurrentDictionary<string, string?> ImageVolumeIdmaps { get; } = new(StringComparer.Ordinal);

    public Task MountImageVolumeAsync(
        IReadOnlyList<string> lowerDirsLowestFirst, string emptyDir, string target, string? userNamespacePath, CancellationToken ct)
    {
        if (_mounted.ContainsKey(Full(target))) throw new IOException($"{target} is already a mount point");
        Directory.CreateDirectory(target);
        _mounted[Full(target)] = 0;
        ImageVolumeIdmaps[Full(target)] = userNamespacePath;
        Interlocked.Increment(ref _imageVolumeMounts);
        return Task.CompletedTask;
    }

    public void MountIdmapped(string source, string target, string userNamespacePath)
    {
        Directory.CreateDirectory(target);
        _mounted[Full(target)] = 0;
    }

    public void UnmountAllUnder(string directory)
    {
        foreach (var mountPoint in MountsUnder(directory)) _mounted.TryRemove(mountPoint, out _);
    }

    public Task UnmountRootfsAsync(string target, CancellationToken ct)
    {
        _mounted.TryRemove(Full(target), out _);
        return Task.CompletedTask;
    }

    /// <summary>The SELinux label each shm tmpfs was mounted with (null: none).</summary>
    public ConcurrentDictionary<string, string?> ShmLabels { get; } = new();

    public void MountShm(string path, string? selinuxMountLabel)
    {
        if (FailMountShm is not null) throw FailMountShm;
        ShmLabels[Full(path)] = selinuxMountLabel;
        Directory.CreateDirectory(path);
        _mounted[Full(path)] = 0;
    }

    public void UnmountShm(string path) => _mounted.TryRemove(Full(path), out _);

    public bool IsMountPoint(string path) => _mounted.ContainsKey(Full(path));

    public IReadOnlyList<string> MountsUnder(params string[] directories)
    {
        var full = directories.Select(Full).ToList();
        return _mounted.Keys.Where(m => full.Any(f => m == f || m.StartsWith(f + "/", StringComparison.Ordinal)))
            .OrderByDescending(m => m.Length).ToList();
    }

    /// <summary>A mount that vanished behind crispd's back (reboot, someone's umount).</summary>
    public void Lose(string path) => _mounted.TryRemove(Full(path), out _);

    private static string Full(string path) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
}
