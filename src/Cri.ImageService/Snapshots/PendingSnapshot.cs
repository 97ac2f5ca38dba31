namespace Crisp.ImageService.Snapshots;

/// <summary>A snapshot being unpacked, invisible until <see cref="Commit"/>; disposing uncommitted removes it.</summary>
public sealed class PendingSnapshot : IDisposable
{
    private readonly SnapshotStore _store;
    private bool _done;

    internal PendingSnapshot(SnapshotStore store, string chainId, string workDirectory, string fsDirectory)
    {
        _store = store;
        ChainId = chainId;
        WorkDirectory = workDirectory;
        FsDirectory = fsDirectory;
    }

    public string ChainId { get; }

    internal string WorkDirectory { get; }

    /// <summary>Where the layer's files go while it is being unpacked.</summary>
    public string FsDirectory { get; }

    /// <summary>Makes the snapshot visible under its chain ID (not yet flushed to disk: see <see cref="SnapshotStore.Flush"/>).</summary>
    public void Commit()
    {
        ObjectDisposedException.ThrowIf(_done, this);
        _store.Commit(this);
        _done = true;
    }

    public void Dispose()
    {
        if (_done) return;
        _done = true;
        _store.Discard(WorkDirectory);
    }
}
