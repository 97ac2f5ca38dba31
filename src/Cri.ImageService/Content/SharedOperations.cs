using System.Collections.Concurrent;

namespace Crisp.ImageService.Content;

/// <summary>
/// Runs at most one operation per key at a time and lets every concurrent caller await it, so two
/// pulls that need the same blob or layer share one download. The operation runs under its own
/// cancellation source that is cancelled only when every waiter has given up: one impatient
/// caller must not fail the others, and nobody waiting means nobody wants the bytes.
/// </summary>
public sealed class SharedOperations<TKey, TResult> where TKey : notnull
{
    private sealed class Entry
    {
        public readonly CancellationTokenSource Cancellation = new();
        public Task<TResult> Task = null!;
        public int Waiters;
    }

    private readonly ConcurrentDictionary<TKey, Entry> _running = new();
    private readonly Lock _gate = new();

    /// <summary>Number of operations currently in flight (for tests and diagnostics).</summary>
    public int RunningCount => _running.Count;

    public async Task<TResult> RunAsync(TKey key, Func<CancellationToken, Task<TResult>> operation, CancellationToken cancellationToken)
    {
        Entry entry;
        lock (_gate)
        {
            if (!_running.TryGetValue(key, out entry!))
            {
                entry = new Entry();
                Entry started = entry;
                entry.Task = Task.Run(async () =>
                {
                    try
                    {
                        return await operation(started.Cancellation.Token).ConfigureAwait(false);
                    }
                    finally
                    {
                        lock (_gate)
                        {
                            _running.TryRemove(new KeyValuePair<TKey, Entry>(key, started));
                        }
                        started.Cancellation.Dispose();
                    }
                }, CancellationToken.None);
                _running[key] = entry;
            }
            entry.Waiters++;
        }

        try
        {
            return await entry.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            bool abandon;
            lock (_gate)
            {
                abandon = --entry.Waiters == 0 && !entry.Task.IsCompleted;
                if (abandon)
                {
                    // A later caller must start afresh rather than join an operation being torn down.
                    _running.TryRemove(new KeyValuePair<TKey, Entry>(key, entry));
                }
            }
            if (abandon)
            {
                try
                {
                    entry.Cancellation.Cancel();
                }
                catch (ObjectDisposedException)
                {
                    // Finished between the check and the cancel: nothing left to stop.
                }
            }
        }
    }
}
