using System.Collections.Concurrent;

namespace Crisp.Runtime.Host;

/// <summary>
/// Runs work made mostly of blocking syscalls (umount2, rmdir, unlink) for many items at once on threads of its own.
/// On the thread pool such work gets only as many threads as the pool has (its minimum is the core count), and the
/// pool adds more only slowly: a pod's 100 container removals ran about 2 at a time on 2 cores and took twice as long
/// as with 8 lanes. Each lane starts on a dedicated thread and stays there until an await really yields (a runtime
/// process to wait for); from then on it continues on the pool like any async code.
/// </summary>
public static class BlockingFanOut
{
    public static Task RunAsync<T>(IEnumerable<T> items, int lanes, Func<T, Task> body)
    {
        var queue = new ConcurrentQueue<T>(items);
        var running = new Task[Math.Min(lanes, queue.Count)];
        for (var i = 0; i < running.Length; i++)
        {
            running[i] = Task.Factory.StartNew(async () =>
            {
                while (queue.TryDequeue(out var item)) await body(item);
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
        }
        return Task.WhenAll(running);
    }
}
