using Crisp.Runtime.Api;

namespace Crisp.Runtime.Cgroups;

/// <summary>
/// Pod and container cgroups on the host's hierarchy (v1 per-controller or v2 unified). Paths handed around are
/// what goes into the OCI spec's linux.cgroupsPath; <see cref="FilesystemPath"/> turns them into the directory
/// under each hierarchy. crisp never writes limits here: the kubelet sizes the pod cgroup it names in
/// cgroup_parent, and the OCI runtime applies each container's own limits from its spec.
/// </summary>
public interface ICgroupManager
{
    /// <summary>"cgroupfs" or "systemd".</summary>
    string Driver { get; }

    bool IsV2 { get; }

    /// <summary>The pod's cgroup: the kubelet's cgroup_parent as given, or a crisp-owned one when it sent none.</summary>
    string PodCgroupParent(string kubeletCgroupParent, string podUid);

    /// <summary>What goes into the container spec's linux.cgroupsPath.</summary>
    string ContainerCgroupsPath(string podCgroupParent, string containerId);

    /// <summary>Path of a pod parent or container cgroupsPath relative to the hierarchy root ("/kubepods/.../id").</summary>
    string FilesystemPath(string cgroupsPath);

    /// <summary>
    /// Makes sure the pod cgroup exists (in every v1 controller, controllers delegated on v2) so containers can be
    /// created below it and it can be measured; an existing one, such as the kubelet's, is left as it is.
    /// </summary>
    Task EnsurePodCgroupAsync(string podCgroupParent, CancellationToken ct);

    /// <summary>A usage sample, or null when the cgroup does not exist.</summary>
    Task<CgroupStats?> ReadStatsAsync(string cgroupsPath, CancellationToken ct);

    /// <summary>
    /// Whether the kernel OOM-killed a process of the cgroup (its oom_kill count is above 0); false when it does not
    /// exist. One file, where <see cref="ReadStatsAsync"/> reads a dozen: every exit of a pod's stop asks it.
    /// </summary>
    Task<bool> SawOomKillAsync(string cgroupsPath, CancellationToken ct);

    /// <summary>Removes the cgroup and anything left below it, leaf first, in every controller; absent is fine.</summary>
    Task RemoveAsync(string cgroupsPath, CancellationToken ct);
}
