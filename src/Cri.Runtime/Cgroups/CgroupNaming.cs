namespace Crisp.Runtime.Cgroups;

/// <summary>How a driver names pod and container cgroups, and where those names live on the filesystem.</summary>
internal abstract class CgroupNaming
{
    public abstract string Driver { get; }
    public abstract string PodCgroupParent(string kubeletCgroupParent, string podUid);
    public abstract string ContainerCgroupsPath(string podCgroupParent, string containerId);
    public abstract string FilesystemPath(string cgroupsPath);

    public static CgroupNaming For(string driver) => driver.ToLowerInvariant() switch
    {
        "cgroupfs" or "" => new CgroupfsNaming(),
        "systemd" => new SystemdNaming(),
        _ => throw new ArgumentException($"cgroup driver \"{driver}\" is not supported (cgroupfs, systemd)", nameof(driver)),
    };
}

/// <summary>cgroupfs: plain paths; the kubelet's parent ("/kubepods/burstable/pod&lt;uid&gt;") already names the pod.</summary>
internal sealed class CgroupfsNaming : CgroupNaming
{
    public override string Driver => "cgroupfs";

    public override string PodCgroupParent(string kubeletCgroupParent, string podUid)
    {
        if (!string.IsNullOrWhiteSpace(kubeletCgroupParent)) return Normalize(kubeletCgroupParent);
        // crictl and other direct clients send no parent; keep their pods together under one crisp-owned tree.
        return "/crisp/pod" + podUid;
    }

    public override string ContainerCgroupsPath(string podCgroupParent, string containerId) =>
        Normalize(podCgroupParent).TrimEnd('/') + "/" + containerId;

    public override string FilesystemPath(string cgroupsPath) => Normalize(cgroupsPath);

    internal static string Normalize(string path)
    {
        if (path.Contains("..", StringComparison.Ordinal))
            throw Api.RuntimeException.InvalidField("linux.cgroup_parent", $"\"{path}\" must not contain \"..\"");
        return "/" + path.Trim().Trim('/');
    }
}

/// <summary>
/// systemd: slice names ("kubepods-burstable-pod&lt;uid&gt;.slice") and runc's "slice:prefix:name" container paths.
/// This machine has no systemd, so only the naming and its mapping onto the cgroup tree
/// (/kubepods.slice/kubepods-burstable.slice/...) are implemented and tested; creating the units is left to the runtime's
/// own systemd support.
/// </summary>
internal sealed class SystemdNaming : CgroupNaming
{
    private const string ScopePrefix = "crisp";

    public override string Driver => "systemd";

    public override string PodCgroupParent(string kubeletCgroupParent, string podUid)
    {
        if (!string.IsNullOrWhiteSpace(kubeletCgroupParent))
        {
            var name = kubeletCgroupParent.Trim();
            if (!name.EndsWith(".slice", StringComparison.Ordinal) || name.Contains('/'))
                throw Api.RuntimeException.InvalidField("linux.cgroup_parent", $"\"{name}\" is not a systemd slice name (systemd cgroup driver)");
            return name;
        }
        return $"crisp-pod{podUid.Replace('-', '_')}.slice";
    }

    public override string ContainerCgroupsPath(string podCgroupParent, string containerId) =>
        $"{podCgroupParent}:{ScopePrefix}:{containerId}";

    public override string FilesystemPath(string cgroupsPath)
    {
        var parts = cgroupsPath.Split(':');
        if (parts.Length == 3)
            return ExpandSlice(parts[0]) + $"/{parts[1]}-{parts[2]}.scope";
        return ExpandSlice(cgroupsPath);
    }

    /// <summary>"a-b-c.slice" lives at /a.slice/a-b.slice/a-b-c.slice, as systemd nests dash-separated slices.</summary>
    internal static string ExpandSlice(string slice)
    {
        if (slice == "-.slice" || slice.Length == 0) return "/";
        if (!slice.EndsWith(".slice", StringComparison.Ordinal))
            throw Api.RuntimeException.InvalidField("linux.cgroup_parent", $"\"{slice}\" is not a systemd slice name");
        var name = slice[..^".slice".Length];
        var components = name.Split('-');
        var path = new System.Text.StringBuilder();
        var prefix = "";
        foreach (var c in components)
        {
            if (c.Length == 0) throw Api.RuntimeException.InvalidField("linux.cgroup_parent", $"\"{slice}\" has an empty component");
            prefix = prefix.Length == 0 ? c : prefix + "-" + c;
            path.Append('/').Append(prefix).Append(".slice");
        }
        return path.ToString();
    }
}
