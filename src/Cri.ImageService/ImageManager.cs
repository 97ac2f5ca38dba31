using Crisp.ImageService.Api;
using Crisp.ImageService.Content;
using Crisp.ImageService.Gc;
using Crisp.ImageService.Metadata;
using Crisp.ImageService.Pull;
using Crisp.ImageService.References;
using Crisp.ImageService.Registry;
using Crisp.ImageService.Snapshots;
using Crisp.ImageService.Unpack;
using Crisp.Interop;
using Microsoft.Extensions.Logging;

namespace Crisp.ImageService;

/// <summary>
/// The image service behind the CRI ImageService RPCs and the runtime: pulls into the content and
/// snapshot stores, answers lookups from the metadata store, removes and garbage-collects.
/// Construction sweeps what an interrupted earlier run left half-done.
/// </summary>
public sealed partial class ImageManager : IImageManager, IDisposable
{
    private readonly ImageServiceOptions _options;
    private readonly MetadataStore _metadata;
    private readonly SnapshotStore _snapshots;
    private readonly ImagePuller _puller;
    private readonly GarbageCollector _collector;
    private readonly SnapshotUsage _usage;
    private readonly SnapshotUsage _containerLayerUsage;
    private Func<CancellationToken, Task<FilesystemUsage>>? _containerUsageProvider;
    private readonly HashSet<string> _pinnedNames;
    private readonly ILogger<ImageManager> _logger;

    public ImageManager(ImageServiceOptions options, RegistryClient registry, ILoggerFactory loggerFactory)
    {
        _options = options;
        _logger = loggerFactory.CreateLogger<ImageManager>();
        OwnedDirectory.Ensure(options.Root);
        var content = new ContentStore(options.Root, loggerFactory.CreateLogger<ContentStore>());
        _snapshots = new SnapshotStore(options.Root, loggerFactory.CreateLogger<SnapshotStore>());
        content.SweepIngests();
        _snapshots.SweepIngests();
        _metadata = new MetadataStore(Path.Combine(options.Root, "metadata.db"), loggerFactory.CreateLogger<MetadataStore>());
        var leases = new Leases();
        _puller = new ImagePuller(options, registry, content, _snapshots, new LayerUnpacker(loggerFactory.CreateLogger<LayerUnpacker>()),
            _metadata, leases, loggerFactory.CreateLogger<ImagePuller>());
        _collector = new GarbageCollector(_metadata, content, _snapshots, leases, loggerFactory.CreateLogger<GarbageCollector>());
        _usage = new SnapshotUsage(_snapshots.Directory, options.Root);
        _containerLayerUsage = SnapshotUsage.ForContainerUpperDirs(ContainersDirectoryOf(options.Root));
        _pinnedNames = options.PinnedImages
            .Select(name => ImageReference.TryParse(name, out ImageReference? parsed) ? parsed.ToString() : name)
            .ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>
    /// Where the runtime keeps container writable layers: "containers" next to the image root
    /// (the image root is "&lt;crisp root&gt;/images", the runtime's is "&lt;crisp root&gt;/containers").
    /// </summary>
    public static string ContainersDirectoryOf(string imageRoot) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(imageRoot).TrimEnd('/')) ?? "/", "containers");

    public async Task<ImageRecord> PullAsync(
        string reference, RegistryCredentials? credentials, CancellationToken cancellationToken, string? userSpecifiedImage = null)
    {
        ImageReference parsed = ImageReference.Parse(reference);
        string userSpecified = string.IsNullOrWhiteSpace(userSpecifiedImage) ? reference : userSpecifiedImage;
        StoredImage image;
        try
        {
            image = await _puller.PullAsync(parsed, credentials, userSpecified, cancellationToken).ConfigureAwait(false);
        }
        catch (ImageServiceException ex) when (IsBadContent(ex.Kind))
        {
            // Retrying cannot make bad content good, so what this pull stored (manifests, config,
            // sibling layers) is only clutter. Transient failures keep it for the retry instead.
            await Task.Run(_collector.Collect, CancellationToken.None).ConfigureAwait(false);
            _usage.Invalidate();
            throw;
        }
        _usage.Invalidate();
        return ToRecord(image);
    }

    private static bool IsBadContent(ImageErrorKind kind) =>
        kind is ImageErrorKind.DataLoss or ImageErrorKind.ResourceExhausted or ImageErrorKind.InvalidArgument or ImageErrorKind.FailedPrecondition;

    public Task<ImageRecord?> FindAsync(string referenceOrId, CancellationToken cancellationToken) =>
        Task.FromResult(Find(referenceOrId) is { } image ? ToRecord(image) : null);

    public Task<IReadOnlyList<ImageRecord>> ListAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<ImageRecord>>(_metadata.List().OrderBy(image => image.Created).Select(ToRecord).ToList());

    public async Task RemoveAsync(string referenceOrId, CancellationToken cancellationToken)
    {
        if (Find(referenceOrId) is not { } image) return;
        if (IsPinned(image))
        {
            throw new ImageServiceException(ImageErrorKind.FailedPrecondition,
                $"image {referenceOrId} ({image.Id}) is pinned and cannot be removed");
        }
        _metadata.Remove(image.Id);
        LogRemoved(referenceOrId, image.Id, string.Join(", ", image.RepoTags));
        await Task.Run(_collector.Collect, CancellationToken.None).ConfigureAwait(false);
        _usage.Invalidate();
    }

    public Task CollectGarbageAsync() => Task.Run(() =>
    {
        _collector.Collect();
        _usage.Invalidate();
    });

    public Task<FilesystemUsage> GetImageFsUsageAsync(CancellationToken cancellationToken) => _usage.GetAsync(cancellationToken);

    public Task<FilesystemUsage> GetContainerFsUsageAsync(CancellationToken cancellationToken) =>
        Volatile.Read(ref _containerUsageProvider) is { } provider ? provider(cancellationToken) : _containerLayerUsage.GetAsync(cancellationToken);

    public void RegisterContainerFilesystemUsage(Func<CancellationToken, Task<FilesystemUsage>> provider) =>
        Volatile.Write(ref _containerUsageProvider, provider ?? throw new ArgumentNullException(nameof(provider)));

    public void RegisterSnapshotUsage(Func<IReadOnlySet<string>> layerDirsInUse) => _collector.RegisterSnapshotUsage(layerDirsInUse);

    public IReadOnlyList<QuarantinedRow> QuarantinedMetadata => _metadata.Quarantined;

    public string? SetAsideMetadataDatabase => _metadata.SetAsideDatabase;

    public void Dispose() => _metadata.Dispose();

    /// <summary>By full id ("sha256:…" or bare hex), tag or digest reference, then unique id prefix.</summary>
    private StoredImage? Find(string text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        if (Digests.IsValid(text)) return _metadata.Get(text);
        bool hex = IsHex(text);
        if (hex && text.Length == 64) return _metadata.Get(Digests.Sha256Prefix + text);

        if (ImageReference.TryParse(text, out ImageReference? reference))
        {
            StoredImage? byName = reference.DigestedName is { } digested
                ? _metadata.FindByRepoDigest(digested)
                : _metadata.FindByTag(reference.TaggedName!);
            if (byName is not null) return byName;
        }

        string prefix = text.StartsWith(Digests.Sha256Prefix, StringComparison.Ordinal) ? text[Digests.Sha256Prefix.Length..] : text;
        if (prefix.Length > 0 && IsHex(prefix))
        {
            IReadOnlyList<StoredImage> matches = _metadata.FindByIdPrefix(prefix);
            if (matches.Count == 1) return matches[0];
        }
        return null;
    }

    private static bool IsHex(string text) => text.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');

    private bool IsPinned(StoredImage image) => image.Pinned || image.RepoTags.Any(_pinnedNames.Contains);

    private ImageRecord ToRecord(StoredImage image) => new(
        image.Id,
        image.RepoTags,
        image.RepoDigests,
        (ulong)image.Size,
        IsPinned(image),
        image.Config,
        image.ChainIds.Select(_snapshots.FsPathOf).ToList(),
        image.UserSpecified);

    [LoggerMessage(Level = LogLevel.Information, Message = "Removed image {Reference} ({Id}; tags: {Tags})")]
    private partial void LogRemoved(string reference, string id, string tags);
}
