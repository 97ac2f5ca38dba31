using Crisp.Cri.V1;
using Crisp.Runtime.Api;

namespace Crisp.Runtime.Oci;

/// <summary>
/// Rejects a CreateContainer config before anything is created, with a message naming the offending field.
/// Only checks that need no host state; the spec generator checks paths and devices on the host.
/// </summary>
public static class ContainerConfigValidator
{
    private const long MinMemoryLimit = 4 * 1024 * 1024;
    private const long MinCpuShares = 2, MaxCpuShares = 262144;
    // The kernel's bounds for a CFS period: 1 ms to 1 s.
    private const long MinCpuPeriod = 1000, MaxCpuPeriod = 1_000_000;
    private const long MinCpuQuota = 1000;

    public static void Validate(ContainerConfig config, string podLogDirectory)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Metadata is null) throw RuntimeException.InvalidField("config.metadata", "is required");
        if (string.IsNullOrWhiteSpace(config.Metadata.Name)) throw RuntimeException.InvalidField("config.metadata.name", "must not be empty");
        if (config.Metadata.Name.Contains('/') || config.Metadata.Name.Contains('\0'))
            throw RuntimeException.InvalidField("config.metadata.name", $"\"{config.Metadata.Name}\" must not contain '/'");
        if (config.Image is null || string.IsNullOrEmpty(config.Image.Image))
            throw RuntimeException.InvalidField("config.image.image", "is required");

        ValidateLogPath(config.LogPath, podLogDirectory);

        for (var i = 0; i < config.Command.Count; i++)
            if (config.Command[i].Contains('\0')) throw RuntimeException.InvalidField($"config.command[{i}]", "contains a NUL byte");
        for (var i = 0; i < config.Args.Count; i++)
            if (config.Args[i].Contains('\0')) throw RuntimeException.InvalidField($"config.args[{i}]", "contains a NUL byte");
        for (var i = 0; i < config.Envs.Count; i++)
        {
            var key = config.Envs[i].Key;
            if (string.IsNullOrEmpty(key)) throw RuntimeException.InvalidField($"config.envs[{i}].key", "must not be empty");
            if (key.Contains('=') || key.Contains('\0')) throw RuntimeException.InvalidField($"config.envs[{i}].key", $"\"{key}\" must not contain '=' or NUL");
        }

        if (!string.IsNullOrEmpty(config.WorkingDir))
            SpecPaths.RequireCleanAbsolute(config.WorkingDir, "config.working_dir");

        var destinations = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < config.Mounts.Count; i++)
        {
            var mount = config.Mounts[i];
            var field = $"config.mounts[{i}]";
            var destination = SpecPaths.RequireCleanAbsolute(mount.ContainerPath, $"{field}.container_path");
            if (destination == "/") throw RuntimeException.InvalidField($"{field}.container_path", "cannot mount over the container's root");
            if (!destinations.Add(destination)) throw RuntimeException.InvalidField($"{field}.container_path", $"duplicate mount point {destination}");
            if (mount.Image is { Image.Length: > 0 }) ValidateImageVolume(mount, field);
            else if (!string.IsNullOrEmpty(mount.ImageSubPath))
                throw RuntimeException.InvalidField($"{field}.image_sub_path", "is only valid with image");
            else SpecPaths.RequireCleanAbsolute(mount.HostPath, $"{field}.host_path");
            if (mount.RecursiveReadOnly && !mount.Readonly)
                throw RuntimeException.InvalidField($"{field}.recursive_read_only", "recursive read-only requires readonly");
        }

        for (var i = 0; i < config.Devices.Count; i++)
        {
            var device = config.Devices[i];
            SpecPaths.RequireCleanAbsolute(device.ContainerPath, $"config.devices[{i}].container_path");
            SpecPaths.RequireCleanAbsolute(device.HostPath, $"config.devices[{i}].host_path");
            if (device.Permissions.Any(c => c is not ('r' or 'w' or 'm')))
                throw RuntimeException.InvalidField($"config.devices[{i}].permissions", $"\"{device.Permissions}\" may only contain r, w and m");
        }

        for (var i = 0; i < config.CDIDevices.Count; i++)
            if (!Cdi.CdiNames.TryParseQualified(config.CDIDevices[i].Name, out _, out _))
                throw RuntimeException.InvalidField($"config.CDI_devices[{i}].name",
                    $"\"{config.CDIDevices[i].Name}\" is not a fully-qualified CDI device name (vendor.com/class=name)");

        ValidateResources(config.Linux?.Resources, "config.linux.resources");
        ValidateSecurityContext(config.Linux?.SecurityContext);
    }

    /// <summary>An image volume is a private, read-only bind of the image's shared mount: nothing else can be asked of it.</summary>
    private static void ValidateImageVolume(Mount mount, string field)
    {
        ImageVolumes.ImageSubPath.Validate(mount.ImageSubPath, $"{field}.image_sub_path");
        if (mount.UidMappings.Count > 0 || mount.GidMappings.Count > 0)
            throw RuntimeException.InvalidField(mount.UidMappings.Count > 0 ? $"{field}.uidMappings" : $"{field}.gidMappings",
                "an image volume cannot be id-mapped");
        if (mount.Propagation != MountPropagation.PropagationPrivate)
            throw RuntimeException.InvalidField($"{field}.propagation", "an image volume is always private");
    }

    /// <summary>Resource values the kernel would reject or that cannot be meant; shared with UpdateContainerResources.</summary>
    public static void ValidateResources(LinuxContainerResources? resources, string field)
    {
        if (resources is null) return;
        if (resources.CpuShares < 0 || (resources.CpuShares != 0 && (resources.CpuShares < MinCpuShares || resources.CpuShares > MaxCpuShares)))
            throw RuntimeException.InvalidField($"{field}.cpu_shares", $"{resources.CpuShares} is outside {MinCpuShares}..{MaxCpuShares}");
        if (resources.CpuPeriod < 0 || (resources.CpuPeriod != 0 && (resources.CpuPeriod < MinCpuPeriod || resources.CpuPeriod > MaxCpuPeriod)))
            throw RuntimeException.InvalidField($"{field}.cpu_period", $"{resources.CpuPeriod} is outside {MinCpuPeriod}..{MaxCpuPeriod} microseconds");
        // -1 is the cgroup's "no limit"; any other value below 1 ms is refused by the kernel.
        if (resources.CpuQuota != 0 && resources.CpuQuota != -1 && resources.CpuQuota < MinCpuQuota)
            throw RuntimeException.InvalidField($"{field}.cpu_quota", $"{resources.CpuQuota} is below the minimum of {MinCpuQuota} microseconds");
        if (resources.MemoryLimitInBytes < 0)
            throw RuntimeException.InvalidField($"{field}.memory_limit_in_bytes", $"{resources.MemoryLimitInBytes} is negative");
        if (resources.MemoryLimitInBytes != 0 && resources.MemoryLimitInBytes < MinMemoryLimit)
            throw RuntimeException.InvalidField($"{field}.memory_limit_in_bytes", $"{resources.MemoryLimitInBytes} is below the minimum of 4 MiB");
        if (resources.MemorySwapLimitInBytes < -1)
            throw RuntimeException.InvalidField($"{field}.memory_swap_limit_in_bytes", $"{resources.MemorySwapLimitInBytes} is negative");
        if (resources.MemorySwapLimitInBytes > 0 && resources.MemoryLimitInBytes > 0 && resources.MemorySwapLimitInBytes < resources.MemoryLimitInBytes)
            throw RuntimeException.InvalidField($"{field}.memory_swap_limit_in_bytes", "must not be lower than memory_limit_in_bytes (it limits memory plus swap)");
        if (resources.OomScoreAdj < -1000 || resources.OomScoreAdj > 1000)
            throw RuntimeException.InvalidField($"{field}.oom_score_adj", $"{resources.OomScoreAdj} is outside -1000..1000");
        ValidateCpuList(resources.CpusetCpus, $"{field}.cpuset_cpus");
        ValidateCpuList(resources.CpusetMems, $"{field}.cpuset_mems");
        for (var i = 0; i < resources.HugepageLimits.Count; i++)
        {
            var pageSize = resources.HugepageLimits[i].PageSize;
            if (string.IsNullOrEmpty(pageSize) || !System.Text.RegularExpressions.Regex.IsMatch(pageSize, "^[0-9]+[KMG]B$"))
                throw RuntimeException.InvalidField($"{field}.hugepage_limits[{i}].page_size", $"\"{pageSize}\" is not a page size like 2MB or 1GB");
        }
        foreach (var key in resources.Unified.Keys)
            if (key.Length == 0 || key.Contains('/') || !key.Contains('.'))
                throw RuntimeException.InvalidField($"{field}.unified[{key}]", "is not a cgroup v2 interface file name");
    }

    private static void ValidateCpuList(string list, string field)
    {
        if (string.IsNullOrEmpty(list)) return;
        foreach (var part in list.Split(','))
        {
            var bounds = part.Trim().Split('-');
            if (bounds.Length is < 1 or > 2 || bounds.Any(b => !uint.TryParse(b, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _))
                || (bounds.Length == 2 && uint.Parse(bounds[0], System.Globalization.CultureInfo.InvariantCulture) > uint.Parse(bounds[1], System.Globalization.CultureInfo.InvariantCulture)))
                throw RuntimeException.InvalidField(field, $"\"{list}\" is not a list like 0-3,5");
        }
    }

    private static void ValidateSecurityContext(LinuxContainerSecurityContext? sc)
    {
        if (sc is null) return;
        const string field = "config.linux.security_context";
        if (sc.RunAsUser is { Value: < 0 }) throw RuntimeException.InvalidField($"{field}.run_as_user", $"{sc.RunAsUser.Value} is negative");
        if (sc.RunAsGroup is { Value: < 0 }) throw RuntimeException.InvalidField($"{field}.run_as_group", $"{sc.RunAsGroup.Value} is negative");
        if (sc.RunAsGroup is not null && sc.RunAsUser is null && string.IsNullOrEmpty(sc.RunAsUsername))
            throw RuntimeException.InvalidField($"{field}.run_as_group", "run_as_group requires run_as_user or run_as_username");
        for (var i = 0; i < sc.SupplementalGroups.Count; i++)
            if (sc.SupplementalGroups[i] < 0) throw RuntimeException.InvalidField($"{field}.supplemental_groups[{i}]", $"{sc.SupplementalGroups[i]} is negative");
        // Its shape here; that it matches the pod's user namespace is checked when the spec joins it.
        Namespaces.UserNamespaceMappings.FromPod(sc.NamespaceOptions?.UsernsOptions, $"{field}.namespace_options.userns_options");
        for (var i = 0; i < sc.MaskedPaths.Count; i++) SpecPaths.RequireCleanAbsolute(sc.MaskedPaths[i], $"{field}.masked_paths[{i}]");
        for (var i = 0; i < sc.ReadonlyPaths.Count; i++) SpecPaths.RequireCleanAbsolute(sc.ReadonlyPaths[i], $"{field}.readonly_paths[{i}]");
    }

    private static void ValidateLogPath(string logPath, string podLogDirectory)
    {
        const string field = "config.log_path";
        if (string.IsNullOrEmpty(logPath)) return; // the kubelet always sets it; crictl may not, and then nothing is logged to a file
        if (logPath.StartsWith('/')) throw RuntimeException.InvalidField(field, $"\"{logPath}\" must be relative to the pod's log directory");
        if (logPath.Contains('\0')) throw RuntimeException.InvalidField(field, "contains a NUL byte");
        if (string.IsNullOrEmpty(podLogDirectory))
            throw RuntimeException.InvalidField(field, "is set but the pod sandbox has no log_directory");
        var root = Path.GetFullPath(podLogDirectory).TrimEnd('/');
        var full = Path.GetFullPath(Path.Combine(root, logPath));
        if (!full.StartsWith(root + "/", StringComparison.Ordinal))
            throw RuntimeException.InvalidField(field, $"\"{logPath}\" escapes the pod log directory {podLogDirectory}");
    }
}
