using System.Buffers;

namespace Crisp.Runtime.Streaming;

/// <summary>
/// One direction of a streaming session: copies a source to a sink until the source ends. A sink that breaks
/// (the client went away) is dropped but the source is still drained, so a process never blocks on a full
/// pipe because nobody listens any more.
/// </summary>
internal sealed class StreamPump
{
    private const int ChunkSize = 16 * 1024;
    private long _bytes;

    /// <summary>Bytes read from the source so far; a drain watches it to tell a quiet pipe from a busy one.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>True once a write to the sink failed and later output was discarded.</summary>
    public bool SinkBroken { get; private set; }

    /// <summary>
    /// Copies until the source reports end of stream (or EIO, which is how a pty master says every slave is
    /// closed). Each chunk is flushed so interactive output is never held back.
    /// </summary>
    public async Task CopyAsync(Stream source, Stream? sink, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            while (true)
            {
                int read;
                try { read = await source.ReadAsync(buffer.AsMemory(0, ChunkSize), ct).ConfigureAwait(false); }
                catch (IOException) { return; }
                catch (ObjectDisposedException) { return; }
                if (read == 0) return;
                Interlocked.Add(ref _bytes, read);
                if (sink is null || SinkBroken) continue;
                try
                {
                    await sink.WriteAsync(buffer.AsMemory(0, read), ct).ConfigureAwait(false);
                    await sink.FlushAsync(ct).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or ObjectDisposedException or NotSupportedException)
                {
                    SinkBroken = true;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Waits for pumps that may outlive the process whose output they carry (a background child can keep a pipe
    /// open forever): returns when they finish, or when they have been idle for <paramref name="idle"/> with nothing
    /// left unread in their sources (<paramref name="sourcesHoldUnread"/>: on a loaded node a pump may not have been
    /// scheduled for longer than the idle time while the process's last output waits in the pipe).
    /// </summary>
    public static async Task DrainAsync(
        IReadOnlyList<(StreamPump Pump, Task Task)> pumps, TimeSpan idle, CancellationToken ct, Func<bool>? sourcesHoldUnread = null)
    {
        var all = Task.WhenAll(pumps.Select(p => p.Task));
        var last = pumps.Sum(p => p.Pump.Bytes);
        while (true)
        {
            var finished = await Task.WhenAny(all, Task.Delay(idle, ct)).ConfigureAwait(false);
            if (finished == all || ct.IsCancellationRequested) return;
            var now = pumps.Sum(p => p.Pump.Bytes);
            if (now == last && sourcesHoldUnread?.Invoke() != true) return;
            last = now;
        }
    }

    /// <summary>Awaits a helper task that should already be ending, without letting a stuck one hold the caller.</summary>
    public static async Task AwaitQuietlyAsync(Task task, TimeSpan bound)
    {
        try { await task.WaitAsync(bound).ConfigureAwait(false); }
        catch (TimeoutException) { }
        catch (OperationCanceledException) { }
        catch (IOException) { }
        catch (ObjectDisposedException) { }
    }
}
