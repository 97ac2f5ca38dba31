using Crisp.Cri.V1;
using Crisp.Runtime.Api;

namespace Crisp.Runtime.Oci;

/// <summary>
/// The container's mount table: the standard Linux filesystems, the pod's hostname/hosts/resolv.conf
/// and /dev/shm, then the kubelet's volume mounts. Returns the rootfs propagation the mounts require.
/// </summary>
internal static class SpecMounts
{
    private const string DevShm = "/dev/shm";

    public static (List<OciMount> Mounts, string? RootfsPropagation) Build(
        ContainerSpecContext context, ContainerSpecOptions options, bool privileged, bool readonlyRootfs, bool hostIpc)
    {
        var criMounts = new List<OciMount>();
        string? rootfsPropagation = null;
        var config = context.Config;

        for (var i = 0; i < config.Mounts.Count; i++)
        {
            var (mount, propagation) = BuildCriMount(config.Mounts[i], $"config.mounts[{i}]", options);
            criMounts.Add(mount);
            if (propagation == "rshared") rootfsPropagation = "rshared";
            else if (propagation == "rslave" && rootfsPropagation != "rshared") rootfsPropagation = "rslave";
        }

        var destinations = criMounts.Select(m => m.Destination).ToList();
        bool CoveredByCri(string destination) => destinations.Any(d =>
            d == destination || (d != "/" && destination.StartsWith(d + "/", StringComparison.Ordinal)));

        var mounts = new List<OciMount>();
        foreach (var mount in DefaultMounts(privileged))
            if (!CoveredByCri(mount.Destination)) mounts.Add(mount);

        var files = context.Files;
        AddPodFile(mounts, CoveredByCri, "/etc/hostname", files.HostnamePath, readonlyRootfs);
        AddPodFile(mounts, CoveredByCri, "/etc/hosts", files.HostsPath, readonlyRootfs);
        AddPodFile(mounts, CoveredByCri, "/etc/resolv.conf", files.ResolvConfPath, readonlyRootfs);
        if (!CoveredByCri(DevShm))
        {
            var shmSource = hostIpc ? options.HostDevShmPath : files.ShmPath;
            // Without the pod's shm the container keeps a private /dev/shm directory on its /dev tmpfs.
            if (Directory.Exists(shmSource)) mounts.Add(new OciMount { Destination = DevShm, Type = "bind", Source = shmSource, Options = ["rbind", "rprivate", "rw"] });
        }

        mounts.AddRange(criMounts);
        // Parents before children (stable, so equal depths keep their order): runc mounts in list order.
        var sorted = mounts.Select((m, index) => (m, index))
            .OrderBy(x => Depth(x.m.Destination)).ThenBy(x => x.index)
            .Select(x => x.m).ToList();
        return (sorted, rootfsPropagation);
    }

    private static void AddPodFile(List<OciMount> mounts, Func<string, bool> coveredByCri, string destination, string source, bool readOnly)
    {
        // Like containerd: a pod file the sandbox did not write is simply not bound (the image's own file stays).
        if (string.IsNullOrEmpty(source) || !File.Exists(source) || coveredByCri(destination)) return;
        mounts.Add(new OciMount
        {
            Destination = destination,
            Type = "bind",
            Source = source,
            Options = ["rbind", "rprivate", readOnly ? "ro" : "rw"],
        });
    }

    private static IEnumerable<OciMount> DefaultMounts(bool privileged)
    {
        var sysAccess = privileged ? "rw" : "ro";
        yield return new OciMount { Destination = "/proc", Type = "proc", Source = "proc", Options = ["nosuid", "noexec", "nodev"] };
        yield return new OciMount { Destination = "/dev", Type = "tmpfs", Source = "tmpfs", Options = ["nosuid", "strictatime", "mode=755", "size=65536k"] };
        yield return new OciMount { Destination = "/dev/pts", Type = "devpts", Source = "devpts", Options = ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] };
        yield return new OciMount { Destination = "/dev/mqueue", Type = "mqueue", Source = "mqueue", Options = ["nosuid", "noexec", "nodev"] };
        yield return new OciMount { Destination = "/sys", Type = "sysfs", Source = "sysfs", Options = ["nosuid", "noexec", "nodev", sysAccess] };
        yield return new OciMount { Destination = "/sys/fs/cgroup", Type = "cgroup", Source = "cgroup", Options = ["nosuid", "noexec", "nodev", "relatime", sysAccess] };
    }

    private static (OciMount Mount, string Propagation) BuildCriMount(Mount mount, string field, ContainerSpecOptions options)
    {
        if (mount.Image is { Image.Length: > 0 }) return (ImageVolumeMount(mount, field, options), "rprivate");
        if (!string.IsNullOrEmpty(mount.ImageSubPath))
            throw RuntimeException.InvalidField($"{field}.image_sub_path", "is only valid with image");
        var idmapped = mount.UidMappings.Count > 0 || mount.GidMappings.Count > 0;
        if (idmapped && options.IdmapBindSource is null)
            throw RuntimeException.InvalidField(mount.UidMappings.Count > 0 ? $"{field}.uidMappings" : $"{field}.gidMappings",
                "id-mapped mounts need a pod with its own user namespace");
        if (mount.MountOptions.Count > 0)
            throw RuntimeException.InvalidField($"{field}.mount_options", "extra mount options are not supported");

        var destination = SpecPaths.RequireCleanAbsolute(mount.ContainerPath, $"{field}.container_path");
        var requested = SpecPaths.RequireCleanAbsolute(mount.HostPath, $"{field}.host_path");
        // Bind the real target: a symlinked source would otherwise be resolved by runc at mount time.
        string source;
        try
        {
            source = RootfsPath.Resolve("/", requested);
        }
        catch (IOException e)
        {
            throw RuntimeException.InvalidField($"{field}.host_path", e.Message);
        }
        if (!File.Exists(source) && !Directory.Exists(source))
            throw RuntimeException.InvalidField($"{field}.host_path", $"{mount.HostPath} does not exist");

        var propagation = mount.Propagation switch
        {
            MountPropagation.PropagationPrivate => "rprivate",
            MountPropagation.PropagationHostToContainer => "rslave",
            MountPropagation.PropagationBidirectional => "rshared",
            _ => throw RuntimeException.InvalidField($"{field}.propagation", $"unknown propagation {mount.Propagation}"),
        };
        if (propagation != "rprivate")
        {
            // Propagation into the container only works if the host side propagates at all.
            var hostPropagation = options.ProbeHostMountPropagation(source);
            if (propagation == "rshared" && hostPropagation != HostMountPropagation.Shared)
                throw RuntimeException.InvalidField($"{field}.propagation",
                    $"bidirectional propagation needs {mount.HostPath} on a shared host mount (it is {hostPropagation.ToString().ToLowerInvariant()})");
            if (propagation == "rslave" && hostPropagation == HostMountPropagation.Private)
                throw RuntimeException.InvalidField($"{field}.propagation",
                    $"host-to-container propagation needs {mount.HostPath} on a shared or slave host mount (it is private)");
        }

        if (idmapped)
        {
            // The clone is a mount of its own: nothing the host mounts later below the source reaches it.
            if (propagation != "rprivate")
                throw RuntimeException.InvalidField($"{field}.propagation", "an id-mapped mount (uidMappings/gidMappings set) must be private");
            source = options.IdmapBindSource!(source, mount, field);
        }

        var mountOptions = new List<string> { "rbind", propagation };
        if (mount.RecursiveReadOnly)
        {
            if (!mount.Readonly)
                throw RuntimeException.InvalidField($"{field}.recursive_read_only", "recursive read-only requires readonly");
            if (propagation != "rprivate")
                throw RuntimeException.InvalidField($"{field}.recursive_read_only", "recursive read-only requires private propagation");
            if (!options.SupportsRecursiveReadOnly)
                throw RuntimeException.InvalidField($"{field}.recursive_read_only", "the runtime handler does not support recursive read-only mounts on this host");
            mountOptions.Add("rro");
        }
        else
        {
            mountOptions.Add(mount.Readonly ? "ro" : "rw");
        }

        return (new OciMount { Destination = destination, Type = "bind", Source = source, Options = mountOptions }, propagation);
    }

    /// <summary>
    /// An image volume: the prepared host path bound read-only, whatever readonly says (the image is shared by every
    /// container that mounts it). host_path is ignored, as containerd does: the kubelet leaves it to the runtime.
    /// </summary>
    private static OciMount ImageVolumeMount(Mount mount, string field, ContainerSpecOptions options)
    {
        var destination = SpecPaths.RequireCleanAbsolute(mount.ContainerPath, $"{field}.container_path");
        if (options.ImageVolumeSource is null)
            throw RuntimeException.InvalidField($"{field}.image", "image volumes are not available to this container");
        return new OciMount { Destination = destination, Type = "bind", Source = options.ImageVolumeSource(mount), Options = ["rbind", "rprivate", "ro"] };
    }

    private static int Depth(string path) => path.Split('/', StringSplitOptions.RemoveEmptyEntries).Length;
}
