namespace Crisp.ImageService.Api;

/// <summary>The parts of an OCI image config the runtime needs to start a container.</summary>
public sealed record ImageConfig(
    string? User,
    IReadOnlyList<string> Env,
    IReadOnlyList<string> Entrypoint,
    IReadOnlyList<string> Cmd,
    string? WorkingDir,
    IReadOnlyDictionary<string, string> Labels,
    string? StopSignal,
    string Os,
    string Architecture,
    /// <summary>The config blob exactly as pulled (verbose ImageStatus shows it).</summary>
    string RawJson);

/// <summary>A pulled image as the store knows it.</summary>
public sealed record ImageRecord(
    /// <summary>"sha256:&lt;hex&gt;" of the config blob; what PullImage returns as image_ref.</summary>
    string Id,
    IReadOnlyList<string> RepoTags,
    IReadOnlyList<string> RepoDigests,
    ulong Size,
    bool Pinned,
    ImageConfig Config,
    /// <summary>Absolute paths of the unpacked layer snapshot directories, lowest layer first.</summary>
    IReadOnlyList<string> LayerDirs,
    string? UserSpecifiedImage);

/// <summary>Bytes and inodes used by image snapshots under a mount point.</summary>
public sealed record FilesystemUsage(string Mountpoint, ulong UsedBytes, ulong InodesUsed);

/// <summary>Credentials from a PullImageRequest's AuthConfig; never logged.</summary>
public sealed record RegistryCredentials(
    string? Username = null,
    string? Password = null,
    /// <summary>base64("user:password")</summary>
    string? Auth = null,
    string? IdentityToken = null,
    string? RegistryToken = null,
    string? ServerAddress = null)
{
    public override string ToString() => "RegistryCredentials(redacted)";
}

/// <summary>The image service as the daemon and the runtime library see it.</summary>
public interface IImageManager
{
    /// <summary>
    /// Pulls (or finds already present) and returns the image; the reference is normalised.
    /// <paramref name="userSpecifiedImage"/> is the image as the user wrote it (CRI
    /// ImageSpec.user_specified_image); the image keeps it, or the reference itself when none is given.
    /// </summary>
    Task<ImageRecord> PullAsync(string reference, RegistryCredentials? credentials, CancellationToken cancellationToken, string? userSpecifiedImage = null);

    /// <summary>Finds by tag reference, digest reference, full id or unique id prefix; null when absent.</summary>
    Task<ImageRecord?> FindAsync(string referenceOrId, CancellationToken cancellationToken);

    Task<IReadOnlyList<ImageRecord>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Removes the image with all its tags; absent is success; pinned is refused.</summary>
    Task RemoveAsync(string referenceOrId, CancellationToken cancellationToken);

    Task<FilesystemUsage> GetImageFsUsageAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Bytes and inodes of container writable layers (CRI ImageFsInfo.container_filesystems): from
    /// the provider the runtime registered, otherwise by walking the upper directories under
    /// "&lt;crisp root&gt;/containers/&lt;id&gt;/upper".
    /// </summary>
    Task<FilesystemUsage> GetContainerFsUsageAsync(CancellationToken cancellationToken);

    /// <summary>Lets the runtime report its writable-layer usage itself (replaces the directory walk).</summary>
    void RegisterContainerFilesystemUsage(Func<CancellationToken, Task<FilesystemUsage>> provider);

    /// <summary>
    /// The runtime registers which layer directories running/created containers use, so removal
    /// and GC never delete a snapshot a container still has mounted.
    /// </summary>
    void RegisterSnapshotUsage(Func<IReadOnlySet<string>> layerDirsInUse);

    /// <summary>
    /// Deletes blobs and snapshots no image or container needs. RemoveAsync does this itself; the runtime calls it when
    /// the last user of a removed image's snapshots goes (a container or an image volume outliving RemoveImage).
    /// </summary>
    Task CollectGarbageAsync();

    /// <summary>Image metadata rows (or a whole database file) moved aside as unreadable; GC deletes nothing while any exist.</summary>
    IReadOnlyList<Metadata.QuarantinedRow> QuarantinedMetadata { get; }

    /// <summary>Where an unusable image metadata database was moved at this start, or null.</summary>
    string? SetAsideMetadataDatabase { get; }
}
