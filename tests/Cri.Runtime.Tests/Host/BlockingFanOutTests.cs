using System.Collections.Concurrent;
using Crisp.Runtime.Host;
using Xunit;

namespace Crisp.Runtime.Tests.Host;

public sealed class BlockingFanOutTests
{
    [Fact]
    public async Task Eight_blocking_lanes_run_at_once_without_waiting_for_the_thread_pool_to_grow()
    {
        const int lanes = 8;
        // Every lane blocks its thread until all lanes arrived: on the pool (2 threads on a 2-core host, one more
        // about every half second) this would take seconds; on threads of their own, all arrive at once.
        using var allThere = new Barrier(lanes);
        var threads = new ConcurrentDictionary<int, bool>();
        var met = new ConcurrentBag<bool>();

        await BlockingFanOut.RunAsync(Enumerable.Range(0, lanes), lanes, _ =>
        {
            threads[Environment.CurrentManagedThreadId] = true;
            met.Add(allThere.SignalAndWait(TimeSpan.FromSeconds(1)));
            return Task.CompletedTask;
        });

        Assert.Equal(lanes, met.Count(m => m));
        Assert.Equal(lanes, threads.Count);
    }

    [Fact]
    public async Task Every_item_runs_once_even_when_it_awaits_and_with_more_items_than_lanes()
    {
        var seen = new ConcurrentBag<int>();

        await BlockingFanOut.RunAsync(Enumerable.Range(0, 100), 8, async i =>
        {
            if (i % 3 == 0) await Task.Yield();
            seen.Add(i);
        });

        Assert.Equal(Enumerable.Range(0, 100), seen.Order());
    }

    [Fact]
    public async Task No_items_complete_at_once()
    {
        await BlockingFanOut.RunAsync(Array.Empty<int>(), 8, _ => throw new InvalidOperationException("no item to run"));
    }
}
