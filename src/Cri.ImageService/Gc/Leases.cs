namespace Crisp.ImageService.Gc;

/// <summary>
/// Blobs and snapshots a pull in progress has made or relies on before its image is recorded.
/// Garbage collection holds <see cref="Gate"/> while it decides and deletes, and taking a lease
/// takes the same gate, so a pull can never see a snapshot as present that GC is about to delete.
/// </summary>
public sealed class Leases
{
    private readonly Dictionary<string, int> _held = new(StringComparer.Ordinal);

    internal Lock Gate { get; } = new();

    public Lease Acquire() => new(this);

    internal bool IsHeld(string key)
    {
        lock (Gate) return _held.ContainsKey(key);
    }

    internal IReadOnlySet<string> Snapshot()
    {
        lock (Gate) return _held.Keys.ToHashSet(StringComparer.Ordinal);
    }

    internal void Add(string key)
    {
        lock (Gate) _held[key] = _held.GetValueOrDefault(key) + 1;
    }

    internal void Release(string key)
    {
        lock (Gate)
        {
            int count = _held.GetValueOrDefault(key) - 1;
            if (count <= 0) _held.Remove(key);
            else _held[key] = count;
        }
    }

    /// <summary>One pull's protection; releasing it (after the image is recorded) lets GC see what it held.</summary>
    public sealed class Lease : IDisposable
    {
        private readonly Leases _owner;
        private readonly List<string> _keys = [];
        private bool _released;

        internal Lease(Leases owner) => _owner = owner;

        /// <summary>Protects <paramref name="keys"/> (digests or chain IDs) from here on.</summary>
        public void Protect(params IEnumerable<string> keys)
        {
            ObjectDisposedException.ThrowIf(_released, this);
            foreach (string key in keys)
            {
                _owner.Add(key);
                _keys.Add(key);
            }
        }

        public void Dispose()
        {
            if (_released) return;
            _released = true;
            foreach (string key in _keys) _owner.Release(key);
        }
    }
}
