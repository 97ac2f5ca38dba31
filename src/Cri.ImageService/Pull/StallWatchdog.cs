namespace Crisp.ImageService.Pull;

/// <summary>
/// Cancels a download that makes no progress. Only time spent waiting on the network counts:
/// the clock runs while at least one network call is outstanding and no byte has arrived, so a
/// slow unpack between reads (or a wait for a download slot) never looks like a stall.
/// </summary>
public sealed class StallWatchdog : IDisposable
{
    private readonly TimeSpan _timeout;
    private readonly CancellationTokenSource _cancellation;
    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private readonly Lock _gate = new();
    private int _pending;
    private long _waitingSince;
    private long _bytes;

    /// <param name="cancellation">Cancelled when a stall is detected.</param>
    public StallWatchdog(TimeSpan timeout, CancellationTokenSource cancellation, TimeProvider? time = null)
    {
        _timeout = timeout;
        _cancellation = cancellation;
        _time = time ?? TimeProvider.System;
        TimeSpan period = TimeSpan.FromTicks(Math.Clamp(timeout.Ticks / 10, TimeSpan.TicksPerMillisecond * 20, TimeSpan.TicksPerSecond));
        _timer = _time.CreateTimer(_ => Check(), null, period, period);
    }

    /// <summary>True once this watchdog cancelled the download.</summary>
    public bool Stalled { get; private set; }

    public long Bytes => Interlocked.Read(ref _bytes);

    public TimeSpan Timeout => _timeout;

    /// <summary>Wraps a network stream so its reads feed the watchdog.</summary>
    public Stream Watch(Stream network) => new ProgressStream(network, this);

    /// <summary>Runs a network call (opening a blob, resolving a manifest) as time the watchdog counts.</summary>
    public async Task<T> WaitAsync<T>(Func<Task<T>> networkCall)
    {
        BeginWait();
        bool done = false;
        try
        {
            T result = await networkCall().ConfigureAwait(false);
            done = true;
            return result;
        }
        finally
        {
            EndWait(done ? 1 : 0);
        }
    }

    internal void BeginWait()
    {
        lock (_gate)
        {
            if (_pending++ == 0) _waitingSince = _time.GetTimestamp();
        }
    }

    /// <summary>A network call finished; <paramref name="progress"/> &gt; 0 means data (or an answer) arrived.</summary>
    internal void EndWait(int progress)
    {
        lock (_gate)
        {
            _pending--;
            if (progress > 0) _waitingSince = _time.GetTimestamp();
        }
    }

    internal void AddBytes(int count) => Interlocked.Add(ref _bytes, count);

    private void Check()
    {
        lock (_gate)
        {
            if (Stalled || _pending == 0 || _time.GetElapsedTime(_waitingSince) < _timeout) return;
            Stalled = true;
        }
        try
        {
            _cancellation.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The download finished and disposed its source while we looked.
        }
    }

    public void Dispose() => _timer.Dispose();
}
