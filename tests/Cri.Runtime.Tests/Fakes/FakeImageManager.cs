using Crisp.ImageService.Api;

namespace Crisp.Runtime.Tests.Fakes;

/// <summary>One pulled image with empty layer directories; what the container lifecycle asks of the image service.</summary>
public sealed class FakeImageManager(string layerDir) : IImageManager
{
    public const string Reference = "example.test/app:1";

    public ImageRecord Image { get; } = new(
        "sha256:" + new string('a', 64),
        [Reference],
        ["example.test/app@sha256:" + new string('b', 64)],
        1,
        false,
        new ImageConfig(null, ["PATH=/bin"], [], ["/bin/sh"], null, new Dictionary<string, string>(), null, "linux", "amd64", "{}"),
        [layerDir],
        Reference);

    public Task<ImageRecord?> FindAsync(string referenceOrId, CancellationToken cancellationToken) =>
        Task.FromResult(referenceOrId == Reference ? Image : null);

    public Task<ImageRecord> PullAsync(string reference, RegistryCredentials? credentials, CancellationToken cancellationToken, string? userSpecifiedImage = null) =>
        throw new NotSupportedException("the container lifecycle never pulls");

    public Task<IReadOnlyList<ImageRecord>> ListAsync(CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<ImageRecord>>([Image]);

    public Task RemoveAsync(string referenceOrId, CancellationToken cancellationToken) =>
        throw new NotSupportedException("the container lifecycle never removes images");

    public Task<FilesystemUsage> GetImageFsUsageAsync(CancellationToken cancellationToken) =>
        throw new NotSupportedException("the container lifecycle never reads image fs usage");

    public Task<FilesystemUsage> GetContainerFsUsageAsync(CancellationToken cancellationToken) =>
        throw new NotSupportedException("the container lifecycle never reads container fs usage");

    public void RegisterContainerFilesystemUsage(Func<CancellationToken, Task<FilesystemUsage>> provider) { }

    public void RegisterSnapshotUsage(Func<IReadOnlySet<string>> layerDirsInUse) { }

    public IReadOnlyList<Crisp.ImageService.Metadata.QuarantinedRow> QuarantinedMetadata => [];

    public string? SetAsideMetadataDatabase => null;
}
