using Crisp.Cri.V1;
using Crisp.Interop;
using Crisp.Runtime.Api;

namespace Crisp.Runtime.Oci;

/// <summary>Device nodes created in the container and the device-cgroup rules that let it use them.</summary>
internal static class SpecDevices
{
    /// <summary>Directories under /dev that hold no real hardware (or are mounted separately) for privileged containers.</summary>
    private static readonly HashSet<string> SkippedHostDevDirs = new(StringComparer.Ordinal) { "pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev" };

    public static (List<OciDevice> Devices, List<OciDeviceCgroup> Rules) Build(ContainerConfig config, bool privileged, ContainerSpecOptions options)
    {
        var devices = new List<OciDevice>();
        var rules = new List<OciDeviceCgroup>();

        if (privileged)
        {
            rules.Add(new OciDeviceCgroup { Allow = true, Access = "rwm" });
            foreach (var device in HostDevices(options.HostDevPath)) devices.Add(device);
        }
        else
        {
            rules.Add(new OciDeviceCgroup { Allow = false, Access = "rwm" });
            rules.AddRange(DefaultAllowedRules());
        }

        for (var i = 0; i < config.Devices.Count; i++)
        {
            var field = $"config.devices[{i}]";
            var requested = config.Devices[i];
            var containerPath = SpecPaths.RequireCleanAbsolute(requested.ContainerPath, $"{field}.container_path");
            var hostPath = SpecPaths.RequireCleanAbsolute(requested.HostPath, $"{field}.host_path");
            var access = NormalizePermissions(requested.Permissions, $"{field}.permissions");

            foreach (var (path, info) in DevicesAt(hostPath, containerPath, $"{field}.host_path"))
            {
                // Privileged containers already have every host device; a duplicate node path would make runc fail.
                devices.RemoveAll(d => d.Path == path);
                devices.Add(new OciDevice
                {
                    Type = info.Type.ToString(), Path = path, Major = info.Major, Minor = info.Minor,
                    FileMode = info.Mode, Uid = info.Uid, Gid = info.Gid,
                });
                if (!privileged)
                    rules.Add(new OciDeviceCgroup { Allow = true, Type = info.Type.ToString(), Major = info.Major, Minor = info.Minor, Access = access });
            }
        }
        return (devices, rules);
    }

    /// <summary>A device node, or every device node below a directory (mapped under the container path).</summary>
    private static IEnumerable<(string Path, DeviceNodeInfo Info)> DevicesAt(string hostPath, string containerPath, string field)
    {
        var info = Libc.StatDeviceNode(hostPath)
            ?? throw RuntimeException.InvalidField(field, $"device {hostPath} does not exist");
        if (info.IsDevice) return [(containerPath, info)];
        if (info.Type != 'd') throw RuntimeException.InvalidField(field, $"{hostPath} is not a device node or a directory of device nodes");

        var found = new List<(string, DeviceNodeInfo)>();
        foreach (var entry in Directory.EnumerateFileSystemEntries(hostPath, "*", SearchOption.AllDirectories))
        {
            if (Libc.StatDeviceNode(entry, followSymlinks: false) is { IsDevice: true } node)
                found.Add((containerPath + "/" + Path.GetRelativePath(hostPath, entry), node));
        }
        return found;
    }

    private static IEnumerable<OciDevice> HostDevices(string devRoot)
    {
        var result = new List<OciDevice>();
        void Walk(string directory)
        {
            IEnumerable<string> entries;
            try
            {
                entries = Directory.EnumerateFileSystemEntries(directory).ToList();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return;
            }
            foreach (var entry in entries)
            {
                var name = Path.GetFileName(entry);
                var node = Libc.StatDeviceNode(entry, followSymlinks: false);
                if (node is null) continue;
                if (node.Value.Type == 'd')
                {
                    if (directory == devRoot && SkippedHostDevDirs.Contains(name)) continue;
                    Walk(entry);
                }
                else if (node.Value.Type is 'c' or 'b')
                {
                    // /dev/console belongs to the container's own terminal, not the host's.
                    if (entry == devRoot + "/console") continue;
                    var containerPath = "/dev/" + Path.GetRelativePath(devRoot, entry);
                    result.Add(new OciDevice
                    {
                        Type = node.Value.Type.ToString(), Path = containerPath, Major = node.Value.Major, Minor = node.Value.Minor,
                        FileMode = node.Value.Mode, Uid = node.Value.Uid, Gid = node.Value.Gid,
                    });
                }
            }
        }
        Walk(devRoot);
        return result;
    }

    private static string NormalizePermissions(string permissions, string field)
    {
        if (string.IsNullOrEmpty(permissions)) return "rwm";
        foreach (var c in permissions)
            if (c is not ('r' or 'w' or 'm'))
                throw RuntimeException.InvalidField(field, $"\"{permissions}\" may only contain r, w and m");
        return new string("rwm".Where(permissions.Contains).ToArray());
    }

    // The nodes every container gets (runc creates them) plus mknod of any node and the pty devices.
    private static IEnumerable<OciDeviceCgroup> DefaultAllowedRules()
    {
        yield return new OciDeviceCgroup { Allow = true, Type = "c", Access = "m" };
        yield return new OciDeviceCgroup { Allow = true, Type = "b", Access = "m" };
        foreach (var (major, minor) in new (long, long?)[] { (1, 3), (1, 5), (1, 7), (1, 8), (1, 9), (5, 0), (5, 1), (5, 2), (136, null) })
            yield return new OciDeviceCgroup { Allow = true, Type = "c", Major = major, Minor = minor, Access = "rwm" };
    }
}
