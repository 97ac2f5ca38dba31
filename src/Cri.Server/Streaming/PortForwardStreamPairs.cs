using Crisp.Server.Limits;
using Crisp.Server.Streaming.Spdy;
using Microsoft.Extensions.Logging;

namespace Crisp.Server.Streaming;

/// <summary>
/// Pairs the "data" and "error" SPDY streams of one port-forward request (same requestid), as the
/// kubelet's httpStreamHandler does: a half that waits longer than the stream creation timeout is
/// given up (error written, data reset), and at most a bounded number of halves may wait at once —
/// one more drops the connection — so a client cannot grow the map without bound.
/// </summary>
internal sealed partial class PortForwardStreamPairs(ILogger logger, TimeSpan timeout, int maxPending) : IDisposable
{
    private sealed class Half
    {
        public SpdyStream? Data;
        public SpdyStream? Error;
        public readonly CancellationTokenSource Paired = new();
    }

    private readonly object _gate = new();
    private readonly Dictionary<string, Half> _pending = new(StringComparer.Ordinal);

    public PortForwardStreamPairs(ILogger logger)
        : this(logger, ClientLimits.StreamCreationTimeout, ClientLimits.PortForwardMaxPendingPairs) { }

    public int PendingCount
    {
        get { lock (_gate) return _pending.Count; }
    }

    /// <summary>
    /// Adds one replied-to stream of type "data" or "error"; returns the pair once both are in.
    /// A second stream of the same type for a waiting request is reset; too many waiting requests
    /// throw <see cref="ClientLimitExceededException"/> (logged).
    /// </summary>
    public async Task<(SpdyStream Data, SpdyStream Error)?> AddAsync(SpdyStream stream, bool isData, string requestId, CancellationToken ct)
    {
        Half half;
        lock (_gate)
        {
            if (_pending.TryGetValue(requestId, out var waiting))
            {
                if ((isData ? waiting.Data : waiting.Error) is null)
                {
                    if (isData) waiting.Data = stream; else waiting.Error = stream;
                    _pending.Remove(requestId);
                    waiting.Paired.Cancel();
                    waiting.Paired.Dispose();
                    return (waiting.Data!, waiting.Error!);
                }
                half = waiting;
            }
            else
            {
                if (_pending.Count >= maxPending)
                {
                    LimitLog.Exceeded(logger, nameof(ClientLimits.PortForwardMaxPendingPairs), maxPending,
                        $"port-forward request {requestId} while {_pending.Count} requests wait for their second stream");
                    throw new ClientLimitExceededException(nameof(ClientLimits.PortForwardMaxPendingPairs), maxPending,
                        $"port-forward request {requestId} while {_pending.Count} requests wait for their second stream");
                }
                half = new Half();
                if (isData) half.Data = stream; else half.Error = stream;
                _pending[requestId] = half;
                _ = ExpireAsync(requestId, half, half.Paired.Token);
                return null;
            }
        }
        LogDuplicate(logger, requestId, isData ? "data" : "error");
        await stream.ResetAsync(SpdyRemoteCommandTransport.RefusedStream, ct).ConfigureAwait(false);
        return null;
    }

    private async Task ExpireAsync(string requestId, Half half, CancellationToken paired)
    {
        try
        {
            await Task.Delay(timeout, paired).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        lock (_gate)
        {
            if (!_pending.TryGetValue(requestId, out var current) || current != half) return;
            _pending.Remove(requestId);
            half.Paired.Dispose();
        }
        LogPairTimedOut(logger, requestId, timeout.TotalSeconds);
        try
        {
            if (half.Error is { } error)
            {
                await error.Data.WriteAsync(System.Text.Encoding.UTF8.GetBytes(
                    $"timed out waiting for the data stream of port-forward request {requestId}"), CancellationToken.None).ConfigureAwait(false);
                await error.CloseWriteAsync(CancellationToken.None).ConfigureAwait(false);
                await error.Data.DisposeAsync().ConfigureAwait(false);
            }
            if (half.Data is { } data) await data.ResetAsync(SpdyRemoteCommandTransport.RefusedStream, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The connection is gone already; nothing is waiting any more either way.
        }
    }

    /// <summary>Stops the timers of halves still waiting (the connection ends with them).</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var half in _pending.Values)
            {
                half.Paired.Cancel();
                half.Paired.Dispose();
            }
            _pending.Clear();
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Port-forward request {RequestId} sent a second {StreamType} stream; reset")]
    private static partial void LogDuplicate(ILogger logger, string requestId, string streamType);

    [LoggerMessage(Level = LogLevel.Information, Message = "Port-forward request {RequestId} got only one of its data/error streams within {Seconds}s; given up")]
    private static partial void LogPairTimedOut(ILogger logger, string requestId, double seconds);
}
