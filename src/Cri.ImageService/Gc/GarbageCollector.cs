using Crisp.ImageService.Content;
using Crisp.ImageService.Metadata;
using Crisp.ImageService.References;
using Crisp.ImageService.Snapshots;
using Microsoft.Extensions.Logging;

namespace Crisp.ImageService.Gc;

/// <summary>
/// Deletes blobs and snapshots nothing needs any more: not an image's manifest, config, index or
/// layer chain, not leased by a pull in progress, and (for snapshots) not in use by a container
/// the runtime knows about.
/// </summary>
public sealed partial class GarbageCollector(
    MetadataStore metadata, ContentStore content, SnapshotStore snapshots, Leases leases, ILogger<GarbageCollector> logger)
{
    private readonly List<Func<IReadOnlySet<string>>> _snapshotUsers = [];
    private readonly Lock _usersGate = new();

    public readonly record struct Result(int BlobsRemoved, int SnapshotsRemoved);

    public void RegisterSnapshotUsage(Func<IReadOnlySet<string>> layerDirsInUse)
    {
        lock (_usersGate) _snapshotUsers.Add(layerDirsInUse);
    }

    public Result Collect()
    {
        if (metadata.Quarantined is { Count: > 0 } quarantined)
        {
            // A lost image row may have referenced any blob or snapshot; nothing can be proven unused until an
            // operator has dealt with the quarantined rows.
            LogKeptForQuarantine(quarantined.Count, string.Join(", ", quarantined.Take(3).Select(q => $"{q.Source} {q.Id}")));
            return new Result(0, 0);
        }
        lock (leases.Gate)
        {
            IReadOnlySet<string> leased = leases.Snapshot();
            IReadOnlyCollection<StoredImage> images = metadata.List();

            var blobsInUse = new HashSet<string>(leased, StringComparer.Ordinal);
            var snapshotsInUse = new HashSet<string>(leased, StringComparer.Ordinal);
            foreach (StoredImage image in images)
            {
                blobsInUse.Add(image.Id);
                blobsInUse.Add(image.ManifestDigest);
                foreach (string repoDigest in image.RepoDigests)
                {
                    int at = repoDigest.LastIndexOf('@');
                    if (at >= 0) blobsInUse.Add(repoDigest[(at + 1)..]);
                }
                snapshotsInUse.UnionWith(image.ChainIds);
            }

            bool runtimeKnown = AddRuntimeUsage(snapshotsInUse);
            int snapshotsRemoved = 0;
            if (runtimeKnown)
            {
                foreach (string chainId in snapshots.List().Where(id => !snapshotsInUse.Contains(id)).ToList())
                {
                    try
                    {
                        if (snapshots.Delete(chainId)) snapshotsRemoved++;
                    }
                    catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                    {
                        LogDeleteFailed("snapshot", chainId, ex.Message);
                    }
                }
            }

            int blobsRemoved = 0;
            foreach (string digest in content.List().Where(d => !blobsInUse.Contains(d)).ToList())
            {
                try
                {
                    if (content.Delete(digest)) blobsRemoved++;
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    LogDeleteFailed("blob", digest, ex.Message);
                }
            }
            if (blobsRemoved + snapshotsRemoved > 0) LogCollected(blobsRemoved, snapshotsRemoved);
            return new Result(blobsRemoved, snapshotsRemoved);
        }
    }

    /// <summary>Adds the snapshots containers use; false when a runtime callback failed, so no snapshot may be deleted.</summary>
    private bool AddRuntimeUsage(HashSet<string> snapshotsInUse)
    {
        List<Func<IReadOnlySet<string>>> users;
        lock (_usersGate) users = [.. _snapshotUsers];
        foreach (Func<IReadOnlySet<string>> user in users)
        {
            try
            {
                foreach (string directory in user())
                {
                    if (snapshots.ChainIdOf(directory) is { } chainId) snapshotsInUse.Add(chainId);
                }
            }
            catch (Exception ex)
            {
                LogRuntimeUsageFailed(ex.Message);
                return false;
            }
        }
        return true;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Image garbage collection removed {Blobs} blobs and {Snapshots} snapshots")]
    private partial void LogCollected(int blobs, int snapshots);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not remove {Kind} {Id}: {Reason}")]
    private partial void LogDeleteFailed(string kind, string id, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Image garbage collection deletes nothing: the image metadata database has {Count} quarantined entries ({First}); clear them once handled (DELETE FROM quarantine)")]
    private partial void LogKeptForQuarantine(int count, string first);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Keeping every snapshot: the runtime could not say which ones containers use ({Reason})")]
    private partial void LogRuntimeUsageFailed(string reason);
}
