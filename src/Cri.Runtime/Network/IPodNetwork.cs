using Crisp.Cri.V1;

namespace Crisp.Runtime.Network;

/// <summary>The node's CNI network as the sandbox lifecycle and recovery use it (see <see cref="PodNetwork"/>).</summary>
public interface IPodNetwork
{
    /// <summary>The CNI config new pods would use, or why there is none.</summary>
    CniConfigState Status { get; }

    /// <summary>UpdateRuntimeConfig's pod CIDR(s), given to plugins that ask for ipRanges.</summary>
    Task UpdatePodCidrAsync(string cidrs, CancellationToken ct);

    /// <summary>Runs ADD for the pod; returns its IPs (IPv4 first). On failure everything ADD did is undone.</summary>
    Task<IReadOnlyList<string>> AttachAsync(string sandboxId, PodSandboxConfig config, string netnsPath, CancellationToken ct);

    /// <summary>Runs DEL with the ADD-time config and result; a pod with no attachment is already detached.</summary>
    Task DetachAsync(string sandboxId, CancellationToken ct);

    /// <summary>Keeps a pod's attachment whose DEL failed for a later DEL, without it claiming host ports.</summary>
    Task AbandonAsync(string sandboxId, CancellationToken ct);

    /// <summary>Sandboxes with an attachment on disk.</summary>
    IEnumerable<string> AttachedSandboxIds();
}
