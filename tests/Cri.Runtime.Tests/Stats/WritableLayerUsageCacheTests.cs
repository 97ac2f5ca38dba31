using Crisp.Runtime.Stats;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Crisp.Runtime.Tests.Stats;

public sealed class WritableLayerUsageCacheTests
{
    private int _walks;

    private (ulong, ulong) CountingMeasure(string upper)
    {
        Interlocked.Increment(ref _walks);
        return ((ulong)upper.Length, 7);
    }

    private static async Task<WritableLayerUsageCache.Usage> WaitForAsync(WritableLayerUsageCache cache, string id, string upper)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            if (cache.Get(id, upper) is { } usage) return usage;
            Assert.True(DateTime.UtcNow < deadline, "the background walk never finished");
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task Stats_calls_answer_from_the_cache_and_walk_at_most_once_per_interval()
    {
        using var cache = new WritableLayerUsageCache(TimeSpan.FromHours(1), CountingMeasure, NullLogger<WritableLayerUsageCache>.Instance);

        Assert.Null(cache.Get("c1", "/upper/c1"));
        var usage = await WaitForAsync(cache, "c1", "/upper/c1");
        for (var i = 0; i < 1000; i++) cache.Get("c1", "/upper/c1");

        Assert.Equal(((ulong)"/upper/c1".Length, 7UL), (usage.Bytes, usage.Inodes));
        Assert.Equal(1, _walks);
    }

    [Fact]
    public async Task A_stale_entry_is_walked_again_in_the_background()
    {
        using var cache = new WritableLayerUsageCache(TimeSpan.Zero, CountingMeasure, NullLogger<WritableLayerUsageCache>.Instance);
        await WaitForAsync(cache, "c1", "/u");

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (Volatile.Read(ref _walks) < 3 && DateTime.UtcNow < deadline)
        {
            cache.Get("c1", "/u");
            await Task.Delay(5);
        }
        Assert.True(_walks >= 3);
    }

    [Fact]
    public async Task Entries_of_removed_containers_are_dropped()
    {
        using var cache = new WritableLayerUsageCache(TimeSpan.FromHours(1), CountingMeasure, NullLogger<WritableLayerUsageCache>.Instance);
        await WaitForAsync(cache, "gone", "/u/gone");
        await WaitForAsync(cache, "kept", "/u/kept");

        cache.Retain(new HashSet<string> { "kept" });

        Assert.NotNull(cache.Get("kept", "/u/kept"));
        Assert.Null(cache.Get("gone", "/u/gone"));
    }

    [Fact]
    public async Task A_real_upper_directory_is_measured()
    {
        var dir = Directory.CreateTempSubdirectory("crisp-upper-cache-").FullName;
        try
        {
            File.WriteAllBytes(Path.Combine(dir, "f"), new byte[4096]);
            using var cache = new WritableLayerUsageCache(NullLogger<WritableLayerUsageCache>.Instance);
            var usage = await WaitForAsync(cache, "c", dir);
            Assert.Equal((4096UL, 1UL), (usage.Bytes, usage.Inodes));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
