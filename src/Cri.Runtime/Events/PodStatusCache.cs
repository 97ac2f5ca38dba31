using System.Collections.Concurrent;
using Crisp.Cri.V1;
using Crisp.Runtime.Containers;
using Crisp.Runtime.State;

namespace Crisp.Runtime.Events;

/// <summary>
/// Each pod's container statuses as its last event carried them. Evented PLEG needs every container's status in every
/// event, but between two events of a pod usually one container changed: a status is rebuilt only when the record
/// fields it is made of changed (<see cref="ContainerStatusBuilder.Inputs"/>, which also catches changes that publish
/// no event, such as UpdateContainerResources). So an event costs one status build, not one per container of the pod,
/// and a stop of 1,000 containers builds 1,000 statuses, not 1,000,000.
/// </summary>
public sealed class PodStatusCache
{
    private readonly ConcurrentDictionary<string, PodStatuses> _pods = new(StringComparer.Ordinal);

    /// <summary>The pod's statuses; lock it while refreshing and publishing so its events leave in the order of their views.</summary>
    public PodStatuses For(string sandboxId) => _pods.GetOrAdd(sandboxId, _ => new PodStatuses());

    /// <summary>A removed pod's statuses go with it.</summary>
    public void Forget(string sandboxId) => _pods.TryRemove(sandboxId, out _);

    /// <summary>With nobody subscribed no event is built, so nothing is kept up to date either.</summary>
    public void Clear()
    {
        if (!_pods.IsEmpty) _pods.Clear();
    }

    public sealed class PodStatuses
    {
        private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
        private readonly List<Entry> _ordered = [];
        private long _generation;

        /// <summary>
        /// The statuses of <paramref name="containers"/> (the pod's visible containers, then any just deleted whose
        /// own event must still carry them), oldest first; entries of containers no longer given are dropped.
        /// </summary>
        public ContainerStatus[] Refresh(IEnumerable<ContainerRecord> containers)
        {
            var generation = ++_generation;
            var seen = 0;
            foreach (var record in containers)
            {
                if (!_entries.TryGetValue(record.Id, out var entry))
                {
                    entry = new Entry(record);
                    _entries.Add(record.Id, entry);
                    InsertInOrder(entry);
                }
                else if (entry.Generation == generation)
                {
                    continue;
                }
                entry.Generation = generation;
                seen++;
                entry.Refresh(record);
            }
            if (seen != _entries.Count)
            {
                _ordered.RemoveAll(e => e.Generation != generation);
                foreach (var id in _entries.Where(e => e.Value.Generation != generation).Select(e => e.Key).ToList()) _entries.Remove(id);
            }
            var statuses = new ContainerStatus[_ordered.Count];
            for (var i = 0; i < statuses.Length; i++) statuses[i] = _ordered[i].Status;
            return statuses;
        }

        /// <summary>A new container is usually the pod's newest: appended, else put in its place.</summary>
        private void InsertInOrder(Entry entry)
        {
            if (_ordered.Count == 0 || Entry.ByCreation(_ordered[^1], entry) <= 0)
            {
                _ordered.Add(entry);
                return;
            }
            var index = _ordered.BinarySearch(entry, Comparer<Entry>.Create(Entry.ByCreation));
            _ordered.Insert(index < 0 ? ~index : index, entry);
        }
    }

    private sealed class Entry(ContainerRecord record)
    {
        public static readonly Comparison<Entry> ByCreation = (a, b) =>
            a.CreatedAtNanos != b.CreatedAtNanos ? a.CreatedAtNanos.CompareTo(b.CreatedAtNanos) : string.CompareOrdinal(a.Id, b.Id);

        private ContainerRecord _record = record;
        private StatusInputs _inputs;
        public string Id { get; } = record.Id;
        public long CreatedAtNanos { get; } = record.CreatedAtNanos;
        public long Generation { get; set; }
        public ContainerStatus Status { get; private set; } = null!;

        public void Refresh(ContainerRecord record)
        {
            var inputs = ContainerStatusBuilder.Inputs(record);
            // A record replaced by another object with the same id (recovery rebuilds records) is built from afresh.
            if (Status is not null && ReferenceEquals(_record, record) && _inputs.Equals(inputs)) return;
            _record = record;
            _inputs = inputs;
            Status = ContainerStatusBuilder.Status(record);
        }
    }
}
