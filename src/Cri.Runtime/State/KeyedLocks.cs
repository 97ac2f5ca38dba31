using System.Collections.Concurrent;

namespace Crisp.Runtime.State;

/// <summary>
/// One async lock per sandbox or container id, so operations on one object are serialised
/// (start vs. exit notification, stop vs. remove) while different objects proceed in parallel.
/// </summary>
public sealed class KeyedLocks
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new(StringComparer.Ordinal);

    public async Task<IDisposable> AcquireAsync(string key, CancellationToken cancellationToken)
    {
        var semaphore = _locks.GetOrAdd(key, _ => new SemaphoreSlim(1, 1));
        await semaphore.WaitAsync(cancellationToken);
        return new Releaser(semaphore);
    }

    /// <summary>Drops the lock object of a removed id; a late waiter simply gets a fresh one.</summary>
    public void Forget(string key) => _locks.TryRemove(key, out _);

    private sealed class Releaser(SemaphoreSlim semaphore) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) semaphore.Release();
        }
    }
}
