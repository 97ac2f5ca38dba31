using System.Collections.Concurrent;

namespace Crisp.Runtime.Stats;

/// <summary>
/// usage_nano_cores is a rate, so it needs the previous sample: keeps the last (time, cumulative usage)
/// per container or pod and derives the average cores used between two stats calls.
/// </summary>
public sealed class CpuRateTracker
{
    private readonly ConcurrentDictionary<string, Sample> _last = new(StringComparer.Ordinal);

    private readonly record struct Sample(long TimestampNanos, ulong UsageCoreNanos);

    /// <summary>Records the sample and returns nano-cores since the previous one; null for the first sample.</summary>
    public ulong? Record(string key, long timestampNanos, ulong usageCoreNanos)
    {
        var current = new Sample(timestampNanos, usageCoreNanos);
        ulong? rate = null;
        if (_last.TryGetValue(key, out var previous)) rate = Rate(previous.TimestampNanos, previous.UsageCoreNanos, timestampNanos, usageCoreNanos);
        // Keep the newer sample; a slower concurrent caller must not move time backwards.
        _last.AddOrUpdate(key, current, (_, old) => old.TimestampNanos > current.TimestampNanos ? old : current);
        return rate;
    }

    /// <summary>
    /// Core-nanoseconds consumed per wall nanosecond, scaled to nano-cores (1 core fully busy = 1e9).
    /// Null when time did not advance or the counter went backwards (container restarted, cgroup recreated).
    /// </summary>
    public static ulong? Rate(long previousNanos, ulong previousUsage, long nowNanos, ulong nowUsage)
    {
        var elapsed = nowNanos - previousNanos;
        if (elapsed <= 0 || nowUsage < previousUsage) return null;
        var used = nowUsage - previousUsage;
        return (ulong)((decimal)used * 1_000_000_000m / elapsed);
    }

    public void Forget(string key) => _last.TryRemove(key, out _);
}
