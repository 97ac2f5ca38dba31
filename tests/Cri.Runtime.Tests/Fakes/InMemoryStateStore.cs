using System.Collections.Concurrent;
using System.Text.Json;
using Crisp.Runtime.State;

namespace Crisp.Runtime.Tests.Fakes;

/// <summary>
/// The state store without SQLite. <see cref="FailSave"/> makes a save throw before anything is kept, as a full
/// disk would. <see cref="Reloaded"/> gives the records as a restarted crispd would read them back.
/// </summary>
public sealed class InMemoryStateStore : IStateStore
{
    private readonly ConcurrentDictionary<string, SandboxRecord> _sandboxes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ContainerRecord> _containers = new(StringComparer.Ordinal);

    /// <summary>Asked before every save; the first save it matches fails with an IOException (a transient write error).</summary>
    public Func<object, bool> FailSave { get; set; } = _ => false;

    private void ThrowIfInjected(object record, string what)
    {
        if (!FailSave(record)) return;
        FailSave = _ => false;
        throw new IOException($"injected: saving {what}");
    }

    public IReadOnlyList<SandboxRecord> Sandboxes => _sandboxes.Values.ToArray();
    public IReadOnlyList<ContainerRecord> Containers => _containers.Values.ToArray();

    public SandboxRecord? FindSandbox(string id) => _sandboxes.GetValueOrDefault(id);
    public ContainerRecord? FindContainer(string id) => _containers.GetValueOrDefault(id);
    public IEnumerable<ContainerRecord> ContainersOf(string sandboxId) => _containers.Values.Where(c => c.SandboxId == sandboxId);

    public Task SaveAsync(SandboxRecord record, CancellationToken cancellationToken)
    {
        ThrowIfInjected(record, $"sandbox {record.Id} in phase {record.Phase}");
        _sandboxes[record.Id] = record;
        return Task.CompletedTask;
    }

    public Task SaveAsync(ContainerRecord record, CancellationToken cancellationToken)
    {
        ThrowIfInjected(record, $"container {record.Id} in phase {record.Phase}");
        _containers[record.Id] = record;
        return Task.CompletedTask;
    }

    public Task DeleteSandboxAsync(string id, CancellationToken cancellationToken)
    {
        _sandboxes.TryRemove(id, out _);
        return Task.CompletedTask;
    }

    public Task DeleteContainerAsync(string id, CancellationToken cancellationToken)
    {
        _containers.TryRemove(id, out _);
        return Task.CompletedTask;
    }

    /// <summary>Counts the batched writes, so tests can tell a pod's teardown wrote once rather than once per container.</summary>
    public int BatchWrites { get; private set; }

    public Task SaveAllAsync(IReadOnlyCollection<ContainerRecord> records, CancellationToken cancellationToken)
    {
        // All or none, as the SQLite transaction: an injected failure keeps nothing.
        foreach (var record in records) ThrowIfInjected(record, $"container {record.Id} in phase {record.Phase}");
        foreach (var record in records) _containers[record.Id] = record;
        BatchWrites++;
        return Task.CompletedTask;
    }

    public Task DeleteContainersAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken)
    {
        foreach (var id in ids) _containers.TryRemove(id, out _);
        BatchWrites++;
        return Task.CompletedTask;
    }

    /// <summary>A new store holding copies of these records, as read back from disk after a restart.</summary>
    public InMemoryStateStore Reloaded()
    {
        var copy = new InMemoryStateStore();
        foreach (var s in _sandboxes.Values)
            copy._sandboxes[s.Id] = JsonSerializer.Deserialize(JsonSerializer.Serialize(s, StateJsonContext.Default.SandboxRecord), StateJsonContext.Default.SandboxRecord)!;
        foreach (var c in _containers.Values)
            copy._containers[c.Id] = JsonSerializer.Deserialize(JsonSerializer.Serialize(c, StateJsonContext.Default.ContainerRecord), StateJsonContext.Default.ContainerRecord)!;
        return copy;
    }
}
