namespace Crisp.Runtime.Namespaces;

/// <summary>The pod-level namespaces the sandbox lifecycle pins and releases (see <see cref="PodNamespaces"/>).</summary>
public interface IPodNamespaces
{
    /// <summary>
    /// Creates and pins the requested namespaces; on failure nothing stays pinned. With <paramref name="userNamespace"/>
    /// the pod's user namespace is created first, with those mappings, and owns the others.
    /// </summary>
    Task<PinnedNamespaces> CreateAsync(
        string sandboxId, bool newNetwork, bool newIpc, bool newUts, bool sharedPid, string? hostname,
        UserNamespaceMappings? userNamespace, CancellationToken ct);

    /// <summary>True when the pod's PID namespace holder is still the process that was started for it.</summary>
    bool IsPidHolderAlive(string sandboxId);

    /// <summary>Unmounts and deletes the namespace files and stops the PID holder; idempotent.</summary>
    Task RemoveAsync(string sandboxId, CancellationToken ct);
}
