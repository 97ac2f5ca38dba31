using Crisp.Cri.V1;
using Crisp.Runtime.Api;

namespace Crisp.Runtime.Cgroups;

/// <summary>
/// Pod and container cgroups on the host's hierarchy (v1 per-controller or v2 unified). Paths handed around are
/// what goes into the OCI spec's linux.cgroupsPath; <see cref="FilesystemPath"/> turns them into the directory
/// under each hierarchy.
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

    /// <summary>Creates the pod cgroup (in every v1 controller) and applies pod-level limits when given.</summary>
    Task EnsurePodCgroupAsync(string podCgroupParent, LinuxContainerResources? resources, CancellationToken ct);

    /// <summary>A usage sample, or null when the cgroup does not exist.</summary>
    Task<CgroupStats?> ReadStatsAsync(string cgroupsPath, CancellationToken ct);

    /// <summary>Writes limits straight into the cgroup (pod-level UpdatePodSandboxResources); zero fields are left alone.</summary>
    Task ApplyResourcesAsync(string cgroupsPath, LinuxContainerResources resources, CancellationToken ct);

    /// <summary>Removes the cgroup and anything left below it, leaf first, in every controller; absent is fine.</summary>
    Task RemoveAsync(string cgroupsPath, CancellationToken ct);
}
