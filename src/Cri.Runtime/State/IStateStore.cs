namespace Crisp.Runtime.State;

/// <summary>
/// The sandbox and container records the lifecycle services read and persist. Callers save a record BEFORE the
/// effect it describes, so recovery can tell half-done work (Creating/Removing) from finished work.
/// </summary>
public interface IStateStore
{
    IReadOnlyList<SandboxRecord> Sandboxes { get; }
    IReadOnlyList<ContainerRecord> Containers { get; }

    SandboxRecord? FindSandbox(string id);
    ContainerRecord? FindContainer(string id);
    IEnumerable<ContainerRecord> ContainersOf(string sandboxId);

    Task SaveAsync(SandboxRecord record, CancellationToken cancellationToken);
    Task SaveAsync(ContainerRecord record, CancellationToken cancellationToken);
    Task DeleteSandboxAsync(string id, CancellationToken cancellationToken);
    Task DeleteContainerAsync(string id, CancellationToken cancellationToken);

    /// <summary>Saves many containers at once (a pod's stop or removal): one write for all, all or none kept.</summary>
    Task SaveAllAsync(IReadOnlyCollection<ContainerRecord> records, CancellationToken cancellationToken);

    /// <summary>Deletes many containers at once (a pod's removal): one write for all, all or none deleted.</summary>
    Task DeleteContainersAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken);
}
