using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Crisp.Runtime.Stats;

/// <summary>
/// The writable-layer size of each container, measured in the background so a stats call never walks an upper
/// directory (100,000 files take a walk of a second or more). A stats call answers the last measurement and, when
/// it is older than the refresh interval, asks for a new one; one walk runs at a time, so the cost is bounded by
/// the number of containers per interval, whatever the number of stats calls (containerd's snapshot syncer keeps
/// the same kind of cache, on a 10 s period).
/// </summary>
public sealed partial class WritableLayerUsageCache : IDisposable
{
    public static readonly TimeSpan DefaultRefreshInterval = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly Channel<(string ContainerId, string UpperDirectory)> _requests =
        Channel.CreateUnbounded<(string, string)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private readonly Func<string, (ulong Bytes, ulong Inodes)> _measure;
    private readonly TimeSpan _refreshInterval;
    private readonly ILogger<WritableLayerUsageCache> _logger;
    private readonly Task _worker;

    public WritableLayerUsageCache(ILogger<WritableLayerUsageCache> logger)
        : this(DefaultRefreshInterval, WritableLayerUsage.Measure, logger) { }

    internal WritableLayerUsageCache(TimeSpan refreshInterval, Func<string, (ulong Bytes, ulong Inodes)> measure, ILogger<WritableLayerUsageCache> logger)
    {
        _refreshInterval = refreshInterval;
        _measure = measure;
        _logger = logger;
        _worker = Task.Run(RefreshLoopAsync);
    }

    /// <summary>One measurement: bytes and inodes of the upper directory, and when the walk finished (Unix nanoseconds).</summary>
    public sealed record Usage(ulong Bytes, ulong Inodes, long MeasuredAtNanos);

    private const long NeverRequested = long.MinValue;

    private sealed class Entry
    {
        public Usage? Last;
        public long RequestedAtTicks = NeverRequested;
        public int Queued;
    }

    /// <summary>
    /// The last measurement of the container's upper directory (null before the first one finishes); asks for a
    /// new one when it is older than the refresh interval.
    /// </summary>
    public Usage? Get(string containerId, string upperDirectory)
    {
        var entry = _entries.GetOrAdd(containerId, _ => new Entry());
        var now = Environment.TickCount64;
        var requestedAt = Volatile.Read(ref entry.RequestedAtTicks);
        if ((requestedAt == NeverRequested || now - requestedAt >= (long)_refreshInterval.TotalMilliseconds)
            && Interlocked.CompareExchange(ref entry.Queued, 1, 0) == 0)
        {
            Volatile.Write(ref entry.RequestedAtTicks, now);
            _requests.Writer.TryWrite((containerId, upperDirectory));
        }
        return Volatile.Read(ref entry.Last);
    }

    /// <summary>Drops the entries of containers that are gone (the only ones not in <paramref name="liveContainerIds"/>).</summary>
    public void Retain(IReadOnlySet<string> liveContainerIds)
    {
        foreach (var id in _entries.Keys)
            if (!liveContainerIds.Contains(id)) _entries.TryRemove(id, out _);
    }

    private async Task RefreshLoopAsync()
    {
        try
        {
            await foreach (var (id, upper) in _requests.Reader.ReadAllAsync(_stopping.Token).ConfigureAwait(false))
            {
                if (!_entries.TryGetValue(id, out var entry)) continue;
                try
                {
                    var started = Environment.TickCount64;
                    var (bytes, inodes) = _measure(upper);
                    Volatile.Write(ref entry.Last, new Usage(bytes, inodes, State.UnixNanos.Now()));
                    var elapsed = Environment.TickCount64 - started;
                    if (elapsed > 1000) Log.SlowWalk(_logger, id, inodes, elapsed);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    Log.WalkFailed(_logger, id, upper, e.Message);
                }
                finally
                {
                    Volatile.Write(ref entry.Queued, 0);
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _requests.Writer.TryComplete();
        try { _worker.Wait(TimeSpan.FromSeconds(5)); }
        catch (AggregateException) { }
        _stopping.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Measuring the writable layer of container {ContainerId} ({Inodes} inodes) took {ElapsedMs} ms")]
        public static partial void SlowWalk(ILogger logger, string containerId, ulong inodes, long elapsedMs);

        [LoggerMessage(Level = LogLevel.Debug, Message = "Writable layer of container {ContainerId} ({UpperDirectory}) not measured: {Reason}")]
        public static partial void WalkFailed(ILogger logger, string containerId, string upperDirectory, string reason);
    }
}
