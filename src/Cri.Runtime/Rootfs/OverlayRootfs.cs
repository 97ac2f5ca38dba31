using Crisp.Interop;
using Crisp.Runtime.Api;

namespace Crisp.Runtime.Rootfs;

/// <summary>
/// A container's rootfs: overlayfs of the image layers plus the container's own upper and work dirs.
/// The layers are handed to the kernel one at a time with fsconfig("lowerdir+") (Linux 6.8+), which has no
/// overall length limit, so images with many layers and long snapshot paths mount fine; older kernels fall back
/// to mount(2), whose option string must fit in one page.
/// For a pod with its own user namespace the overlay cannot itself be idmapped (mount_setattr(MOUNT_ATTR_IDMAP)
/// on an overlay mount answers EINVAL on this kernel line), but overlayfs takes idmapped layers: each lower dir
/// is cloned as an idmapped mount under the container's directory, the overlay is built on the clones, and the
/// clones are detached at once (the overlay keeps its own references). The upper dir stays a plain directory
/// owned by the host ids of the container's root, so copied-up and new files belong to those host ids.
/// </summary>
public static class OverlayRootfs
{
    private const int PageLimit = 4095;

    /// <param name="lowerDirsLowestFirst">Image layer directories, base layer first (as the image store lists them).</param>
    public static Task MountAsync(
        IReadOnlyList<string> lowerDirsLowestFirst, string upperDir, string workDir, string target, RootfsIdmap? idmap, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        // The upper dir's mode is the container's "/"; work and the mount point are the kernel's and crisp's.
        OwnedDirectory.Ensure(upperDir, FileModes.SharedDirectory);
        OwnedDirectory.Ensure(workDir);
        OwnedDirectory.Ensure(target);

        // overlayfs lists the topmost lower layer first.
        var lowers = lowerDirsLowestFirst.Reverse().ToList();
        if (lowers.Count == 0)
        {
            // An image without layers (FROM scratch + config only) still needs a lower dir.
            var empty = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(upperDir))!, "empty-lower");
            OwnedDirectory.Ensure(empty, FileModes.SharedDirectory);
            lowers.Add(empty);
        }
        RequireMountable(lowers, target);

        if (idmap is not null) Libc.Lchown(upperDir, idmap.HostRootUid, idmap.HostRootGid);
        var idmappedDir = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(upperDir))!, "idmapped-layers");
        MountOverlay(lowers, upperDir, workDir, target, idmap?.UserNamespacePath, idmappedDir);
        return Task.CompletedTask;
    }

    /// <summary>
    /// An image's filesystem alone, read-only (an image volume): overlayfs of its layers with no upper dir, mounted
    /// "ro". overlayfs needs two lower dirs when there is no upper one, so a one-layer (or empty) image is stacked on
    /// <paramref name="emptyDir"/>. With <paramref name="userNamespacePath"/> the layers are idmapped clones, as for a
    /// rootfs: the files of the image's root are the pod's root.
    /// </summary>
    public static Task MountReadOnlyAsync(
        IReadOnlyList<string> lowerDirsLowestFirst, string emptyDir, string target, string? userNamespacePath, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        OwnedDirectory.Ensure(target);
        var lowers = lowerDirsLowestFirst.Reverse().ToList();
        if (lowers.Count < 2)
        {
            OwnedDirectory.Ensure(emptyDir, FileModes.SharedDirectory);
            lowers.Add(emptyDir);
        }
        RequireMountable(lowers, target);
        var idmappedDir = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(target))!, "idmapped-layers");
        MountOverlay(lowers, null, null, target, userNamespacePath, idmappedDir);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Mounts the overlay (read-only without <paramref name="upper"/>), over idmapped clones of the lowers, made in
    /// <paramref name="idmappedDir"/> and detached again, when <paramref name="userNamespacePath"/> is given.
    /// </summary>
    private static void MountOverlay(
        List<string> lowersTopFirst, string? upper, string? work, string target, string? userNamespacePath, string idmappedDir)
    {
        try
        {
            if (userNamespacePath is not null) lowersTopFirst = IdmapLayers(lowersTopFirst, idmappedDir, userNamespacePath);
            try
            {
                MountWithFsConfig(lowersTopFirst, upper, work, target);
            }
            catch (SyscallException e) when (e.Errno is Errno.EINVAL or 38 /* ENOSYS */ or Errno.ENOTSUP)
            {
                MountClassic(lowersTopFirst, upper, work, target, e);
            }
        }
        finally
        {
            if (userNamespacePath is not null) DetachLayers(idmappedDir);
        }
    }

    private static void RequireMountable(List<string> lowersTopFirst, string target)
    {
        foreach (var l in lowersTopFirst)
        {
            if (l.Contains(':') || l.Contains(','))
                throw new RuntimeException(RuntimeErrorKind.Internal, $"layer path {l} contains ':' or ',' which overlayfs cannot take");
            if (!Directory.Exists(l))
                throw new RuntimeException(RuntimeErrorKind.NotFound, $"image layer directory {l} does not exist");
        }
        if (MountPoints.IsMountPoint(target))
            throw new RuntimeException(RuntimeErrorKind.AlreadyExists, $"{target} is already a mount point");
    }

    private static List<string> IdmapLayers(List<string> lowersTopFirst, string idmappedDir, string userNamespacePath)
    {
        OwnedDirectory.Ensure(idmappedDir);
        using var userNamespace = File.OpenHandle(userNamespacePath);
        var clones = new List<string>(lowersTopFirst.Count);
        for (var i = 0; i < lowersTopFirst.Count; i++)
        {
            var clone = Path.Combine(idmappedDir, i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            OwnedDirectory.Ensure(clone);
            Libc.MountIdmapped(lowersTopFirst[i], clone, userNamespace);
            clones.Add(clone);
        }
        return clones;
    }

    private static void DetachLayers(string idmappedDir)
    {
        if (!Directory.Exists(idmappedDir)) return;
        foreach (var clone in Directory.GetDirectories(idmappedDir))
            while (Libc.Unmount(clone, Libc.MNT_DETACH | Libc.UMOUNT_NOFOLLOW)) { }
        Directory.Delete(idmappedDir, recursive: true);
    }

    /// <summary>Without <paramref name="upper"/> (and <paramref name="work"/>) the overlay is read-only.</summary>
    private static void MountWithFsConfig(List<string> lowersTopFirst, string? upper, string? work, string target)
    {
        var options = new List<KeyValuePair<string, string?>>();
        foreach (var l in lowersTopFirst) options.Add(new("lowerdir+", l));
        if (upper is null)
        {
            options.Add(new("ro", null));
        }
        else
        {
            options.Add(new("upperdir", upper));
            options.Add(new("workdir", work));
        }
        // Matches containerd: no index / redirect_dir games that tie the upper dir to these exact lowers.
        options.Add(new("index", "off"));
        Libc.MountWithFsConfig("overlay", "overlay", options, target);
    }

    private static void MountClassic(List<string> lowersTopFirst, string? upper, string? work, string target, Exception why)
    {
        var data = upper is null
            ? $"lowerdir={string.Join(':', lowersTopFirst)},index=off"
            : $"lowerdir={string.Join(':', lowersTopFirst)},upperdir={upper},workdir={work},index=off";
        if (data.Length > PageLimit)
            throw new RuntimeException(RuntimeErrorKind.Internal,
                $"overlay options for {target} are {data.Length} bytes, more than mount(2) takes, and this kernel lacks fsconfig lowerdir+ ({why.Message})");
        Libc.Mount("overlay", target, "overlay", upper is null ? Libc.MS_RDONLY : 0, data);
    }

    /// <summary>Unmounts the rootfs (lazily, so a lingering process cannot block removal); not mounted is fine.</summary>
    public static Task UnmountAsync(string target, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        while (Libc.Unmount(target, Libc.MNT_DETACH | Libc.UMOUNT_NOFOLLOW)) { }
        return Task.CompletedTask;
    }
}
