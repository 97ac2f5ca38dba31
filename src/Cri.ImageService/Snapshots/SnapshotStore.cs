using Crisp.ImageService.Api;
using Crisp.ImageService.References;
using Crisp.Interop;
using Microsoft.Extensions.Logging;

namespace Crisp.ImageService.Snapshots;

/// <summary>
/// Unpacked layers under &lt;root&gt;/snapshots/&lt;chain-id-hex&gt;/fs, one directory per chain ID,
/// shared by every image with that chain. A snapshot is built under snapshots/.ingest and renamed
/// into place only when complete, so a crash never leaves a half snapshot visible. Flushing to
/// disk is left to <see cref="Flush"/>, once per pull rather than once per layer: parallel layers
/// would otherwise queue behind each other's writeback.
/// </summary>
public sealed partial class SnapshotStore
{
    private const string FsDirectoryName = "fs";
    private const string IngestDirectoryName = ".ingest";

    private readonly string _ingestDirectory;
    private readonly ILogger<SnapshotStore> _logger;

    public SnapshotStore(string root, ILogger<SnapshotStore> logger)
    {
        _logger = logger;
        Directory = Path.Combine(root, "snapshots");
        _ingestDirectory = Path.Combine(Directory, IngestDirectoryName);
        OwnedDirectory.Ensure(Directory);
        OwnedDirectory.Ensure(_ingestDirectory);
    }

    /// <summary>&lt;root&gt;/snapshots.</summary>
    public string Directory { get; }

    /// <summary>The directory an overlay mount uses as a lower layer for this chain.</summary>
    public string FsPathOf(string chainId) => Path.Combine(SnapshotPathOf(chainId), FsDirectoryName);

    public bool Exists(string chainId) => System.IO.Directory.Exists(FsPathOf(chainId));

    /// <summary>The chain ID whose fs directory is <paramref name="fsPath"/>, or null if it is not one of ours.</summary>
    public string? ChainIdOf(string fsPath)
    {
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(fsPath));
        if (Path.GetFileName(full) != FsDirectoryName) return null;
        string? snapshot = Path.GetDirectoryName(full);
        if (snapshot is null || Path.GetDirectoryName(snapshot) != Path.TrimEndingDirectorySeparator(Directory)) return null;
        string chainId = Digests.Sha256Prefix + Path.GetFileName(snapshot);
        return Digests.IsValid(chainId) ? chainId : null;
    }

    /// <summary>Chain IDs of every complete snapshot.</summary>
    public IEnumerable<string> List() =>
        System.IO.Directory.EnumerateDirectories(Directory)
            .Select(path => Digests.Sha256Prefix + Path.GetFileName(path))
            .Where(Digests.IsValid);

    /// <summary>Starts building a snapshot; dispose the result without committing to throw it away.</summary>
    public PendingSnapshot Begin(string chainId)
    {
        string work = Path.Combine(_ingestDirectory, $"{Hex(chainId)}-{Guid.NewGuid():N}");
        string fs = Path.Combine(work, FsDirectoryName);
        // The snapshot directory stays closed: it holds image content (setuid files, devices) that only
        // the overlay mount may expose. The root of a layer starts as an ordinary 0755 directory; a "./" tar
        // entry may change it.
        OwnedDirectory.Ensure(work);
        OwnedDirectory.Ensure(fs, FileModes.SharedDirectory);
        return new PendingSnapshot(this, chainId, work, fs);
    }

    internal void Commit(PendingSnapshot pending)
    {
        string target = SnapshotPathOf(pending.ChainId);
        try
        {
            System.IO.Directory.Move(pending.WorkDirectory, target);
        }
        catch (IOException) when (System.IO.Directory.Exists(target))
        {
            // Another pull finished the same chain first; its snapshot is as good as ours.
            Discard(pending.WorkDirectory);
        }
    }

    /// <summary>Writes every snapshot's data to disk (syncfs); call before recording an image that uses new snapshots.</summary>
    public void Flush() => Libc.SyncFilesystem(Directory);

    internal void Discard(string workDirectory)
    {
        try
        {
            if (System.IO.Directory.Exists(workDirectory)) System.IO.Directory.Delete(workDirectory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogRemoveFailed(workDirectory, ex.Message);
        }
    }

    /// <summary>Removes a complete snapshot. It first moves out of sight so a half-deleted tree is never mistaken for a snapshot.</summary>
    public bool Delete(string chainId)
    {
        string path = SnapshotPathOf(chainId);
        if (!System.IO.Directory.Exists(path)) return false;
        string doomed = Path.Combine(_ingestDirectory, $"deleting-{Hex(chainId)}-{Guid.NewGuid():N}");
        System.IO.Directory.Move(path, doomed);
        Discard(doomed);
        return true;
    }

    /// <summary>Deletes unfinished snapshots a crash left behind; call once at start.</summary>
    public int SweepIngests()
    {
        int removed = 0;
        foreach (string leftover in System.IO.Directory.EnumerateDirectories(_ingestDirectory))
        {
            Discard(leftover);
            removed++;
        }
        if (removed > 0) LogSwept(removed);
        return removed;
    }

    private string SnapshotPathOf(string chainId)
    {
        string? problem = Digests.Validate(chainId);
        if (problem is not null) throw new ImageServiceException(ImageErrorKind.Internal, $"chain ID \"{chainId}\": {problem}");
        return Path.Combine(Directory, Hex(chainId));
    }

    private static string Hex(string digest) => digest[Digests.Sha256Prefix.Length..];

    [LoggerMessage(Level = LogLevel.Information, Message = "Removed {Count} unfinished snapshots left by an earlier run")]
    private partial void LogSwept(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not remove {Path}: {Reason}")]
    private partial void LogRemoveFailed(string path, string reason);
}
