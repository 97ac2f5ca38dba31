using System.Collections.Concurrent;
using Crisp.ImageService.Api;

namespace Crisp.Runtime.Tests.Fakes;

/// <summary>
/// Two pulled images with empty layer directories (the container image and one used as a volume); what the container
/// lifecycle asks of the image service. Removal forgets an image; collections are counted.
/// </summary>
public sealed class FakeImageManager(string layerDir) : IImageManager
{
    public const string Reference = "example.test/app:1";
    public const string VolumeReference = "example.test/data:1";

    private int _collections;

    public ImageRecord Image { get; } = new(
        "sha256:" + new string('a', 64),
        [Reference],
        ["example.test/app@sha256:" + new string('b', 64)],
        1,
        false,
        new ImageConfig(null, ["PATH=/bin"], [], ["/bin/sh"], null, new Dictionary<string, string>(), null, "linux", "amd64", "{}"),
        [layerDir],
        Reference);

    /// <summary>An image with two layers, mounted as a volume by the image-volume tests.</summary>
    public ImageRecord VolumeImage { get; } = new(
        "sha256:" + new string('c', 64),
        [VolumeReference],
        ["example.test/data@sha256:" + new string('d', 64)],
        1,
        false,
        new ImageConfig(null, [], [], [], null, new Dictionary<string, string>(), null, "linux", "amd64", "{}"),
        [layerDir + "-data-0", layerDir + "-data-1"],
        VolumeReference);

    /// <summary>How many times garbage collection was asked for.</summary>
    public int Collections => Volatile.Read(ref _collections);

    private readonly ConcurrentDictionary<string, byte> _removed = new(StringComparer.Ordinal);

    private IEnumerable<ImageRecord> Present => new[] { Image, VolumeImage }.Where(i => !_removed.ContainsKey(i.Id));

    public Task<ImageRecord?> FindAsync(string referenceOrId, CancellationToken cancellationToken) =>
        Task.FromResult(Present.FirstOrDefault(i => i.Id == referenceOrId || i.RepoTags.Contains(referenceOrId)));

    public Task<ImageRecord> PullAsync(string reference, RegistryCredentials? credentials, CancellationToken cancellationToken, string? userSpecifiedImage = null) =>
        throw new NotSupportedException("the container lifecycle never pulls");

    public Task<IReadOnlyList<ImageRecord>> ListAsync(CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<ImageRecord>>(Present.ToList());

    /// <summary>What RemoveImage does to the store (the tests call it as the kubelet would).</summary>
    public async Task RemoveAsync(string referenceOrId, CancellationToken cancellationToken)
    {
        if (await FindAsync(referenceOrId, cancellationToken) is { } image) _removed[image.Id] = 0;
    }

    public Task CollectGarbageAsync()
    {
        Interlocked.Increment(ref _collections);
        return Task.CompletedTask;
    }

    public Task<FilesystemUsage> GetImageFsUsageAsync(CancellationToken cancellationToken) =>
        throw new NotSupportedException("the container lifecycle never reads image fs usage");

    public Task<FilesystemUsage> GetContainerFsUsageAsync(CancellationToken cancellationToken) =>
        throw new NotSupportedException("the container lifecycle never reads container fs usage");

    public void RegisterContainerFilesystemUsage(Func<CancellationToken, Task<FilesystemUsage>> provider) { }

    public void RegisterSnapshotUsage(Func<IReadOnlySet<string>> layerDirsInUse) { }

    public IReadOnlyList<Crisp.ImageService.Metadata.QuarantinedRow> QuarantinedMetadata => [];

    public string? SetAsideMetadataDatabase => null;
}
