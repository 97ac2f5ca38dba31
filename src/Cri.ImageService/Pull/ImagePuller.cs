using System.Diagnostics;
using System.Text;
using Crisp.ImageService.Api;
using Crisp.ImageService.Content;
using Crisp.ImageService.Gc;
using Crisp.ImageService.Manifests;
using Crisp.ImageService.Metadata;
using Crisp.ImageService.References;
using Crisp.ImageService.Registry;
using Crisp.ImageService.Snapshots;
using Crisp.ImageService.Unpack;
using Microsoft.Extensions.Logging;

namespace Crisp.ImageService.Pull;

/// <summary>
/// One pull, end to end: resolve the reference, fetch the config, stream every missing layer
/// straight into its snapshot (in parallel, bounded), and record the image only when all of it
/// exists. Pulls needing the same blob or snapshot share one download.
/// </summary>
public sealed partial class ImagePuller
{
    private static readonly TimeSpan ProgressLogInterval = TimeSpan.FromSeconds(2);

    private readonly ImageServiceOptions _options;
    private readonly RegistryClient _registry;
    private readonly ContentStore _content;
    private readonly SnapshotStore _snapshots;
    private readonly LayerUnpacker _unpacker;
    private readonly MetadataStore _metadata;
    private readonly Leases _leases;
    private readonly ILogger<ImagePuller> _logger;
    private readonly Platform _platform;
    private readonly SharedOperations<string, LayerOutcome> _layerOperations = new();

    private readonly record struct LayerOutcome(long CompressedBytes, long UncompressedBytes, int Entries);

    public ImagePuller(
        ImageServiceOptions options, RegistryClient registry, ContentStore content, SnapshotStore snapshots,
        LayerUnpacker unpacker, MetadataStore metadata, Leases leases, ILogger<ImagePuller> logger)
    {
        _options = options;
        _registry = registry;
        _content = content;
        _snapshots = snapshots;
        _unpacker = unpacker;
        _metadata = metadata;
        _leases = leases;
        _logger = logger;
        _platform = new Platform(options.PlatformOs, options.PlatformArchitecture, options.PlatformVariant);
    }

    public async Task<StoredImage> PullAsync(ImageReference reference, RegistryCredentials? credentials, string? userSpecified, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        using Leases.Lease lease = _leases.Acquire();

        // A digest names immutable content: when it is here, there is nothing to ask a registry.
        if (reference.DigestedName is { } digested && _metadata.FindByRepoDigest(digested) is { } pinned && IsComplete(pinned, lease))
        {
            return _metadata.Record(ToNewImage(pinned), reference.TaggedName, null, userSpecified);
        }

        using var pullCancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var watchdog = new StallWatchdog(_options.PullProgressTimeout, pullCancellation);
        try
        {
            ResolvedManifest resolved = await watchdog.WaitAsync(
                () => _registry.ResolveAsync(reference, _platform, credentials, pullCancellation.Token)).ConfigureAwait(false);
            ImageManifest manifest = resolved.Manifest;
            string imageId = manifest.Config.Digest;
            string repoDigest = resolved.RepoDigest;

            // Tags move, so they are always re-resolved (like containerd); when the image they name
            // is complete here, that one manifest request is all the pull costs.
            if (_metadata.Get(imageId) is { } present && IsComplete(present, lease))
            {
                StoredImage warm = _metadata.Record(ToNewImage(present), reference.TaggedName, repoDigest, userSpecified);
                LogAlreadyPresent(reference.ToString(), imageId, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                return warm;
            }

            var source = new BlobSource(resolved.Endpoint.Host, resolved.Endpoint.Repository);
            lease.Protect(imageId, resolved.ManifestDigest);
            await StoreManifestsAsync(resolved, source, lease, pullCancellation.Token).ConfigureAwait(false);

            // The content store takes no more than the declared size, so this bounds the read below too.
            if (manifest.Config.Size > SizeLimit.ImageConfig.Bytes)
            {
                throw SizeLimit.ImageConfig.Exceeded(source.Describe(imageId), $"{manifest.Config.Size} bytes declared by manifest {resolved.ManifestDigest}", _logger);
            }
            string configPath = await _content.EnsureAsync(imageId, manifest.Config.Size, source,
                async token => watchdog.Watch(await watchdog.WaitAsync(() => _registry.OpenBlobAsync(resolved, manifest.Config, token)).ConfigureAwait(false)),
                pullCancellation.Token).ConfigureAwait(false);
            string configJson = Encoding.UTF8.GetString(await File.ReadAllBytesAsync(configPath, pullCancellation.Token).ConfigureAwait(false));
            ImageConfigDocument config = ImageConfigDocument.Parse(configJson, $"{imageId} of {reference}");
            if (config.DiffIds.Count != manifest.Layers.Count)
            {
                throw new ImageServiceException(ImageErrorKind.DataLoss,
                    $"image {reference}: config {imageId} lists {config.DiffIds.Count} diff IDs but manifest {resolved.ManifestDigest} has {manifest.Layers.Count} layers");
            }

            IReadOnlyList<string> chainIds = ChainIds.Compute(config.DiffIds);
            lease.Protect(chainIds);
            int unpacked = await UnpackLayersAsync(reference, resolved, source, config.DiffIds, chainIds, pullCancellation).ConfigureAwait(false);

            // The record must never name a snapshot a power loss could take back.
            if (unpacked > 0) await Task.Run(_snapshots.Flush, pullCancellation.Token).ConfigureAwait(false);

            long size = resolved.ManifestBytes.Length + manifest.Config.Size + manifest.Layers.Sum(layer => layer.Size);
            var image = new NewImage(imageId, config.Config, size, resolved.ManifestDigest, chainIds, config.DiffIds);
            StoredImage stored = _metadata.Record(image, reference.TaggedName, repoDigest, userSpecified);
            LogPulled(reference.ToString(), imageId, manifest.Layers.Count, unpacked, size, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return stored;
        }
        catch (Exception ex) when (watchdog.Stalled && !cancellationToken.IsCancellationRequested && ex is not ImageServiceException { Kind: ImageErrorKind.DeadlineExceeded })
        {
            throw new ImageServiceException(ImageErrorKind.DeadlineExceeded,
                $"pull of {reference} made no progress for {_options.PullProgressTimeout.TotalSeconds:0.###} s", ex);
        }
    }

    /// <summary>True when every snapshot of the image exists; leases them first so GC cannot take them meanwhile.</summary>
    private bool IsComplete(StoredImage image, Leases.Lease lease)
    {
        lease.Protect(image.ChainIds);
        return image.ChainIds.All(_snapshots.Exists);
    }

    private static NewImage ToNewImage(StoredImage image) =>
        new(image.Id, image.Config, image.Size, image.ManifestDigest, image.ChainIds, image.DiffIds);

    /// <summary>Keeps the manifest (and the index the tag named) so the image can be inspected and its repo digest served.</summary>
    private async Task StoreManifestsAsync(ResolvedManifest resolved, BlobSource source, Leases.Lease lease, CancellationToken cancellationToken)
    {
        await _content.PutAsync(resolved.ManifestDigest, resolved.ManifestBytes, source, cancellationToken).ConfigureAwait(false);
        if (resolved.IndexBytes is { } index)
        {
            string indexDigest = Digests.Sha256Of(index);
            lease.Protect(indexDigest);
            await _content.PutAsync(indexDigest, index, source, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<int> UnpackLayersAsync(
        ImageReference reference, ResolvedManifest resolved, BlobSource source, IReadOnlyList<string> diffIds,
        IReadOnlyList<string> chainIds, CancellationTokenSource pullCancellation)
    {
        IReadOnlyList<Descriptor> layers = resolved.Manifest.Layers;
        // Not disposed: a layer operation this pull started may outlive it when another pull still waits on it.
        var slots = new SemaphoreSlim(Math.Max(1, _options.MaxConcurrentDownloads));
        var running = new List<Task<LayerOutcome>>();
        for (int i = 0; i < layers.Count; i++)
        {
            if (_snapshots.Exists(chainIds[i])) continue;
            Descriptor layer = layers[i];
            string diffId = diffIds[i];
            string chainId = chainIds[i];
            running.Add(_layerOperations.RunAsync(chainId,
                token => UnpackLayerAsync(reference, resolved, source, layer, diffId, chainId, slots, token),
                pullCancellation.Token));
        }

        // Fail fast: the first broken layer cancels its siblings instead of letting them download for nothing.
        var pending = new List<Task<LayerOutcome>>(running);
        Exception? first = null;
        while (pending.Count > 0)
        {
            Task<LayerOutcome> done = await Task.WhenAny(pending).ConfigureAwait(false);
            pending.Remove(done);
            if (done.IsFaulted || done.IsCanceled)
            {
                first ??= done.Exception?.InnerException ?? new OperationCanceledException(pullCancellation.Token);
                await pullCancellation.CancelAsync().ConfigureAwait(false);
            }
        }
        if (first is not null)
        {
            // Prefer the real failure over the cancellations it caused in sibling layers.
            Exception cause = running.Where(t => t.IsFaulted).Select(t => t.Exception!.InnerException!)
                .FirstOrDefault(e => e is not OperationCanceledException) ?? first;
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(cause);
        }
        return running.Count;
    }

    private async Task<LayerOutcome> UnpackLayerAsync(
        ImageReference reference, ResolvedManifest resolved, BlobSource source, Descriptor layer, string diffId, string chainId,
        SemaphoreSlim slots, CancellationToken cancellationToken)
    {
        string description = $"layer {layer.Digest} from registry {source.Registry} repository {source.Repository}";
        await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_snapshots.Exists(chainId)) return default;
            long started = Stopwatch.GetTimestamp();
            LogLayerStarted(reference.ToString(), layer.Digest, layer.Size);
            using var layerCancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var watchdog = new StallWatchdog(_options.PullProgressTimeout, layerCancellation);
            using PendingSnapshot snapshot = _snapshots.Begin(chainId);
            using var progress = new Timer(_ => LogLayerProgress(reference.ToString(), layer.Digest, watchdog.Bytes, layer.Size),
                null, ProgressLogInterval, ProgressLogInterval);
            try
            {
                Stream network = await watchdog.WaitAsync(() => _registry.OpenBlobAsync(resolved, layer, layerCancellation.Token)).ConfigureAwait(false);
                LayerUnpacker.Result result;
                await using (network.ConfigureAwait(false))
                {
                    result = await _unpacker.UnpackAsync(watchdog.Watch(network), layer, diffId, snapshot.FsDirectory, description, layerCancellation.Token)
                        .ConfigureAwait(false);
                }
                snapshot.Commit();
                LogLayerDone(reference.ToString(), layer.Digest, result.CompressedBytes, result.UncompressedBytes, result.Entries,
                    Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                return new LayerOutcome(result.CompressedBytes, result.UncompressedBytes, result.Entries);
            }
            catch (Exception ex) when (watchdog.Stalled && !cancellationToken.IsCancellationRequested)
            {
                throw new ImageServiceException(ImageErrorKind.DeadlineExceeded,
                    $"{description}: no data for {_options.PullProgressTimeout.TotalSeconds:0.###} s (got {watchdog.Bytes} of {layer.Size} bytes)", ex);
            }
        }
        finally
        {
            slots.Release();
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Pull {Image}: downloading {Layer} ({Size} bytes)")]
    private partial void LogLayerStarted(string image, string layer, long size);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Pull {Image}: {Layer} {Received} of {Size} bytes received")]
    private partial void LogLayerProgress(string image, string layer, long received, long size);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Pull {Image}: unpacked {Layer}: {Compressed} bytes downloaded, {Uncompressed} bytes of tar, {Entries} entries in {Milliseconds:0} ms")]
    private partial void LogLayerDone(string image, string layer, long compressed, long uncompressed, int entries, double milliseconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Pulled {Image} as {Id}: {Layers} layers ({Unpacked} unpacked now), {Size} bytes in {Milliseconds:0} ms")]
    private partial void LogPulled(string image, string id, int layers, int unpacked, long size, double milliseconds);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Pull {Image}: {Id} already present ({Milliseconds:0.0} ms)")]
    private partial void LogAlreadyPresent(string image, string id, double milliseconds);
}
