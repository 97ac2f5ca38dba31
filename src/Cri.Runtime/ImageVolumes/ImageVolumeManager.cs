using Crisp.Cri.V1;
using Crisp.ImageService.Api;
using Crisp.Interop;
using Crisp.Runtime.Api;
using Crisp.Runtime.Host;
using Crisp.Runtime.Rootfs;
using Crisp.Runtime.State;
using Microsoft.Extensions.Logging;

namespace Crisp.Runtime.ImageVolumes;

/// <summary>
/// Image volumes (CRI Mount.image). Each image used as a volume is mounted once, read-only, at
/// state_dir/image-volumes/&lt;image id&gt;/rootfs (overlayfs of its layer snapshots, no upper dir) and bound read-only
/// into every container, of any pod, that names it. The container records are the reference count: a record lists
/// the images it mounts (<see cref="ContainerRecord.ImageVolumes"/>) before the mount is made, and a mount goes when
/// no record lists its image any more, checked under the image's lock after a removal and at start for whatever a
/// crash left. The same lists keep the layers safe from image GC (StateStore.LayerDirsInUse), so RemoveImage of an
/// image in use succeeds and its snapshots go when the last user does.
/// A pod with its own user namespace cannot share that mount (an overlay mount refuses MOUNT_ATTR_IDMAP on this kernel
/// line, so no idmapped clone of it can be made): it gets its own, at
/// state_dir/sandboxes/&lt;pod&gt;/image-volumes/&lt;image id&gt;/rootfs, an overlay of idmapped layers as its rootfs is,
/// mounted for the pod's first container naming the image and gone with the pod's last one.
/// </summary>
public sealed partial class ImageVolumeManager(
    RuntimeLayout layout, IStateStore store, IRuntimeMounts mounts, IImageManager images, ILogger<ImageVolumeManager> logger)
{
    private readonly KeyedLocks _locks = new();

    /// <summary>One image mount of a CreateContainer config, with the image it names.</summary>
    public sealed record Request(Mount Mount, string Field, ImageRecord Image, string ImageName);

    /// <summary>
    /// The config's image mounts, each resolved to an image in the store by the lookup CreateContainer uses for the
    /// container's own image; nothing is made. A missing image is FailedPrecondition naming the field and the image.
    /// </summary>
    public async Task<IReadOnlyList<Request>> ResolveAsync(ContainerConfig config, SandboxRecord sandbox, CancellationToken cancellationToken)
    {
        var requests = new List<Request>();
        for (var i = 0; i < config.Mounts.Count; i++)
        {
            var mount = config.Mounts[i];
            if (mount.Image is not { Image.Length: > 0 } spec) continue;
            var field = $"config.mounts[{i}].image";
            var image = await images.FindAsync(spec.Image, cancellationToken)
                ?? throw new RuntimeException(RuntimeErrorKind.FailedPrecondition,
                    $"{field}.image: image \"{spec.Image}\" is not present on the node; pull it first");
            requests.Add(new Request(mount, $"config.mounts[{i}]", image, spec.Image));
        }
        return requests;
    }

    /// <summary>What a container record keeps of its requests: each image once.</summary>
    public static List<ImageVolumeUse> Uses(IReadOnlyList<Request> requests) =>
        requests.GroupBy(r => r.Image.Id, StringComparer.Ordinal)
            .Select(g => new ImageVolumeUse(g.Key, g.First().Image.LayerDirs.ToList()))
            .ToList();

    /// <summary>
    /// Mounts each requested image unless it already is (by another container, or before a crispd restart) and
    /// answers the host path each mount binds: the image root or its sub-path. The caller has saved the record
    /// naming these images first.
    /// </summary>
    public async Task<IReadOnlyDictionary<Mount, string>> MountAsync(
        IReadOnlyList<Request> requests, SandboxRecord sandbox, CancellationToken cancellationToken)
    {
        var sources = new Dictionary<Mount, string>(ReferenceEqualityComparer.Instance);
        var podUserNamespace = sandbox.UserNamespaceMappings is not null ? sandbox.UserNamespacePath : null;
        foreach (var request in requests)
        {
            var root = podUserNamespace is null
                ? await EnsureMountedAsync(request.Image, VolumeDirectory(request.Image.Id), null, cancellationToken)
                : await EnsureMountedAsync(request.Image, PodVolumeDirectory(sandbox.Id, request.Image.Id), podUserNamespace, cancellationToken);
            sources[request.Mount] = ImageSubPath.Resolve(root, request.Mount.ImageSubPath, $"{request.Field}.image_sub_path", request.ImageName);
        }
        return sources;
    }

    private async Task<string> EnsureMountedAsync(
        ImageRecord image, string directory, string? userNamespacePath, CancellationToken cancellationToken)
    {
        var target = Path.Combine(directory, "rootfs");
        using (await _locks.AcquireAsync(directory, cancellationToken))
        {
            if (mounts.IsMountPoint(target)) return target;
            OwnedDirectory.Ensure(Path.GetDirectoryName(directory)!);
            OwnedDirectory.Ensure(directory);
            await mounts.MountImageVolumeAsync(image.LayerDirs, Path.Combine(directory, "empty"), target, userNamespacePath, cancellationToken);
            Log.Mounted(logger, image.Id, target, image.LayerDirs.Count);
            return target;
        }
    }

    /// <summary>
    /// After <paramref name="removed"/> left the store: unmounts the image volumes no record uses any more, and when an
    /// image they (or their own rootfs) used was removed meanwhile, collects its snapshots, which were kept for them.
    /// Failures are logged, not thrown: the records are gone, and the next start reconciles what is left.
    /// </summary>
    public async Task ReleaseAsync(IReadOnlyCollection<ContainerRecord> removed)
    {
        var volumeImages = removed.SelectMany(r => r.ImageVolumes).Select(v => v.ImageId).Distinct(StringComparer.Ordinal).ToList();
        foreach (var imageId in volumeImages) await UnmountIfUnusedAsync(imageId, null);
        foreach (var (sandboxId, imageId) in removed.SelectMany(r => r.ImageVolumes.Select(v => (r.SandboxId, v.ImageId))).Distinct())
        {
            if (Directory.Exists(PodVolumeDirectory(sandboxId, imageId))) await UnmountIfUnusedAsync(imageId, sandboxId);
        }

        foreach (var imageId in removed.Select(r => r.ImageId).Concat(volumeImages).Distinct(StringComparer.Ordinal))
        {
            if (string.IsNullOrEmpty(imageId) || await images.FindAsync(imageId, CancellationToken.None) is not null) continue;
            try
            {
                await images.CollectGarbageAsync();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.CollectFailed(logger, ex, imageId);
            }
            break; // one collection covers every removed image
        }
    }

    /// <summary>At start, after recovery: unmounts and removes every image volume no container record names.</summary>
    public async Task ReconcileAsync()
    {
        if (Directory.Exists(layout.ImageVolumesDir))
        {
            foreach (var directory in Directory.GetDirectories(layout.ImageVolumesDir))
                await UnmountIfUnusedAsync(ImageIdOf(Path.GetFileName(directory)), null);
        }
        if (!Directory.Exists(layout.SandboxesStateRoot)) return;
        foreach (var podVolumes in Directory.GetDirectories(layout.SandboxesStateRoot).Select(d => Path.Combine(d, PodVolumesDirName)).Where(Directory.Exists))
        {
            var sandboxId = Path.GetFileName(Path.GetDirectoryName(podVolumes)!);
            foreach (var directory in Directory.GetDirectories(podVolumes))
                await UnmountIfUnusedAsync(ImageIdOf(Path.GetFileName(directory)), sandboxId);
        }
    }

    /// <summary>Unmounts the image's shared volume (<paramref name="sandboxId"/> null) or that pod's own, unless a container still names it.</summary>
    private async Task UnmountIfUnusedAsync(string imageId, string? sandboxId)
    {
        var directory = sandboxId is null ? VolumeDirectory(imageId) : PodVolumeDirectory(sandboxId, imageId);
        using (await _locks.AcquireAsync(directory, CancellationToken.None))
        {
            var candidates = sandboxId is null ? store.Containers : store.ContainersOf(sandboxId);
            var user = candidates.FirstOrDefault(c => c.ImageVolumes.Any(v => v.ImageId == imageId));
            if (user is not null) return;
            var steps = new CleanupSteps(imageId, logger);
            await steps.RunAsync("unmount image volume", () =>
            {
                mounts.UnmountAllUnder(directory);
                return Task.CompletedTask;
            });
            if (await steps.RemoveDirectoriesAsync(mounts, directory)) Log.Unmounted(logger, imageId);
        }
    }

    private const string PodVolumesDirName = "image-volumes";

    private string VolumeDirectory(string imageId) => Path.Combine(layout.ImageVolumesDir, DirectoryNameOf(imageId));

    private string PodVolumeDirectory(string sandboxId, string imageId) =>
        Path.Combine(layout.SandboxesStateRoot, ObjectIds.RequireFileNameSafe(sandboxId, "pod sandbox id"), PodVolumesDirName, DirectoryNameOf(imageId));

    /// <summary>"sha256:&lt;hex&gt;" becomes "sha256-&lt;hex&gt;": one plain directory name per image id.</summary>
    private static string DirectoryNameOf(string imageId)
    {
        var name = imageId.Replace(':', '-');
        if (name.Length == 0 || name.Contains('/') || name is "." or "..")
            throw new RuntimeException(RuntimeErrorKind.Internal, $"image id \"{imageId}\" cannot name an image volume directory");
        return name;
    }

    /// <summary>
    /// The image whose volume mount <paramref name="source"/> (a bind source in a container's spec) lies in, or null
    /// when it is not one: how a container rebuilt from its bundle gets its image volume list back.
    /// </summary>
    public static string? ImageIdOfSource(RuntimeLayout layout, string source)
    {
        var full = Path.GetFullPath(source);
        var shared = Path.GetRelativePath(layout.ImageVolumesDir, full).Split('/');
        if (shared.Length >= 2 && shared[0] is not (".." or ".") && shared[1] == "rootfs") return ImageIdOf(shared[0]);
        // <sandboxes state root>/<pod>/image-volumes/<image>/rootfs
        var podOwn = Path.GetRelativePath(layout.SandboxesStateRoot, full).Split('/');
        return podOwn.Length >= 4 && podOwn[0] is not (".." or ".") && podOwn[1] == PodVolumesDirName && podOwn[3] == "rootfs"
            ? ImageIdOf(podOwn[2])
            : null;
    }

    private static string ImageIdOf(string directoryName)
    {
        var dash = directoryName.IndexOf('-', StringComparison.Ordinal);
        return dash < 0 ? directoryName : string.Concat(directoryName.AsSpan(0, dash), ":", directoryName.AsSpan(dash + 1));
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Image volume of {ImageId} mounted read-only at {Target} ({Layers} layers)")]
        public static partial void Mounted(ILogger logger, string imageId, string target, int layers);

        [LoggerMessage(Level = LogLevel.Information, Message = "Image volume of {ImageId} unmounted: no container uses it")]
        public static partial void Unmounted(ILogger logger, string imageId);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Collecting the snapshots of removed image {ImageId} after its last user went failed; the next image removal retries")]
        public static partial void CollectFailed(ILogger logger, Exception exception, string imageId);
    }
}
