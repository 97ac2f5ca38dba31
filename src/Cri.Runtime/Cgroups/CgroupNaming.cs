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
