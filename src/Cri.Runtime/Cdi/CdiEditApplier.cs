using Crisp.Interop;
using Crisp.Runtime.Oci;

namespace Crisp.Runtime.Cdi;

/// <summary>
/// Applies resolved CDI devices to a generated OCI spec in the order the CDI spec defines: for each device in
/// request order, its spec's edits (once per spec file), then the device's own edits. Env entries replace the same
/// variable; a device node or mount replaces one at the same container path; hooks and gids are appended. Every
/// block or char device node gets a device-cgroup rule with its permissions (default rwm, "none" for none).
/// </summary>
public static class CdiEditApplier
{
    public static void Apply(OciSpec spec, IReadOnlyList<CdiRegistry.ResolvedDevice> devices, Func<string, DeviceNodeInfo?>? statHost = null)
    {
        statHost ??= path => Libc.StatDeviceNode(path);
        var appliedSpecs = new HashSet<string>(StringComparer.Ordinal);
        foreach (var device in devices)
        {
            if (appliedSpecs.Add(device.SpecPath)) ApplyEdits(spec, device.Spec.ContainerEdits, device, statHost);
            ApplyEdits(spec, device.Device.ContainerEdits, device, statHost);
        }
        if (spec.Mounts is { } mounts)
        {
            // Parents before children, stable (runc mounts in list order), as for the kubelet's own mounts.
            spec.Mounts = mounts.Select((m, index) => (m, index))
                .OrderBy(x => x.m.Destination.Split('/', StringSplitOptions.RemoveEmptyEntries).Length).ThenBy(x => x.index)
                .Select(x => x.m).ToList();
        }
    }

    private static void ApplyEdits(OciSpec spec, CdiContainerEdits? edits, CdiRegistry.ResolvedDevice from, Func<string, DeviceNodeInfo?> statHost)
    {
        if (edits is null) return;
        if (edits.IntelRdt is not null)
            throw new CdiResolutionException(from.QualifiedName,
                $"CDI device \"{from.QualifiedName}\" ({from.SpecPath}) asks for intelRdt, which crisp does not apply");

        if (edits.Env is { Count: > 0 } env)
        {
            var process = spec.Process ??= new OciProcess();
            var list = process.Env ??= [];
            foreach (var entry in env)
            {
                var name = entry[..(entry.IndexOf('=') + 1)];
                list.RemoveAll(e => e.StartsWith(name, StringComparison.Ordinal));
                list.Add(entry);
            }
        }

        foreach (var node in edits.DeviceNodes ?? [])
            AddDeviceNode(spec, node, from, statHost);

        foreach (var mount in edits.Mounts ?? [])
        {
            var mounts = spec.Mounts ??= [];
            mounts.RemoveAll(m => m.Destination == mount.ContainerPath);
            mounts.Add(new OciMount
            {
                Destination = mount.ContainerPath,
                Source = mount.HostPath,
                Type = mount.Type,
                Options = mount.Options is null ? null : [.. mount.Options],
            });
        }

        foreach (var hook in edits.Hooks ?? [])
        {
            var hooks = spec.Hooks ??= new OciHooks();
            var list = hook.HookName switch
            {
                "prestart" => hooks.Prestart ??= [],
                "createRuntime" => hooks.CreateRuntime ??= [],
                "createContainer" => hooks.CreateContainer ??= [],
                "startContainer" => hooks.StartContainer ??= [],
                "poststart" => hooks.Poststart ??= [],
                "poststop" => hooks.Poststop ??= [],
                _ => throw new CdiResolutionException(from.QualifiedName, $"CDI spec {from.SpecPath}: unknown hookName \"{hook.HookName}\""),
            };
            list.Add(new OciHook
            {
                Path = hook.Path,
                Args = hook.Args is null ? null : [.. hook.Args],
                Env = hook.Env is null ? null : [.. hook.Env],
                Timeout = hook.Timeout,
            });
        }

        foreach (var gid in edits.AdditionalGids ?? [])
        {
            if (gid == 0) continue;
            var user = (spec.Process ??= new OciProcess()).User;
            var gids = user.AdditionalGids ??= [];
            if (!gids.Contains(gid)) gids.Add(gid);
        }
    }

    private static void AddDeviceNode(OciSpec spec, CdiDeviceNode node, CdiRegistry.ResolvedDevice from, Func<string, DeviceNodeInfo?> statHost)
    {
        var type = string.IsNullOrEmpty(node.Type) ? null : node.Type;
        long? major = node.Major, minor = node.Minor;
        var fileMode = node.FileMode;
        // As the reference implementation: what the spec leaves out is taken from the host node, so a spec may name
        // only a path. A "p" (fifo) needs no numbers.
        if (type is null || (type != "p" && (major is null || minor is null)) || fileMode is null)
        {
            var hostPath = node.HostPath ?? node.Path;
            var info = statHost(hostPath);
            if (info is { IsDevice: true } host)
            {
                if (type is not null && type != host.Type.ToString() && !(type == "u" && host.Type == 'c'))
                    throw new CdiResolutionException(from.QualifiedName,
                        $"CDI device \"{from.QualifiedName}\" ({from.SpecPath}): device node {node.Path} has type {type} but {hostPath} is of type {host.Type}");
                type ??= host.Type.ToString();
                if (type != "p")
                {
                    major ??= host.Major;
                    minor ??= host.Minor;
                }
                fileMode ??= host.Mode;
            }
            else if (type is null || (type != "p" && (major is null || minor is null)))
            {
                throw new CdiResolutionException(from.QualifiedName,
                    $"CDI device \"{from.QualifiedName}\" ({from.SpecPath}): device node {hostPath} " +
                    (info is null ? "does not exist on the host" : "is not a device node") + " and the spec does not give its type and numbers");
            }
        }
        if (type == "u") type = "c"; // unbuffered char device: the same to runc and the device cgroup

        var linux = spec.Linux ??= new OciLinux();
        var devices = linux.Devices ??= [];
        devices.RemoveAll(d => d.Path == node.Path);
        var user = spec.Process?.User;
        devices.Add(new OciDevice
        {
            Type = type!,
            Path = node.Path,
            Major = major ?? 0,
            Minor = minor ?? 0,
            FileMode = fileMode,
            // The container user owns the node unless the spec says otherwise (root needs nothing).
            Uid = node.Uid ?? (user is { Uid: > 0 } ? user.Uid : null),
            Gid = node.Gid ?? (user is { Gid: > 0 } ? user.Gid : null),
        });

        if (type is "b" or "c")
        {
            var access = node.Permissions switch
            {
                null or "" => "rwm",
                "none" => "",
                var given => new string("rwm".Where(given.Contains).ToArray()),
            };
            var rules = (linux.Resources ??= new OciResources()).Devices ??= [];
            rules.Add(new OciDeviceCgroup { Allow = true, Type = type, Major = major, Minor = minor, Access = access });
        }
    }
}
