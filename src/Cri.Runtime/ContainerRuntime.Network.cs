using Crisp.Runtime.Network;

namespace Crisp.Runtime;

public sealed partial class ContainerRuntime
{
    /// <summary>The CNI config new pods would use, or why there is none (Status' NetworkReady).</summary>
    public CniConfigState NetworkStatus => _network.Status;

    /// <summary>UpdateRuntimeConfig: the node's pod CIDR(s), given to plugins that ask for ipRanges.</summary>
    public Task UpdatePodCidrAsync(string podCidr, CancellationToken cancellationToken) =>
        _network.PodCidr.UpdateAsync(podCidr, cancellationToken);

    /// <summary>
    /// DEL for attachments whose sandbox record is gone (a crash between the record's removal and the cache's),
    /// so no IP allocation, veth or hostPort rule outlives its pod.
    /// </summary>
    private async Task DetachOrphanedNetworksAsync(CancellationToken cancellationToken)
    {
        foreach (var sandboxId in _network.AttachedSandboxIds().ToList())
        {
            if (_store.FindSandbox(sandboxId) is not null) continue;
            Log.RecoveryAction(_logger, sandboxId, "releasing the CNI attachment of a pod sandbox that no longer exists");
            try { await _network.DetachAsync(sandboxId, cancellationToken); }
            catch (Api.RuntimeException ex) { Log.RecoveryFailed(_logger, ex, "pod network", sandboxId); }
        }
    }
}
