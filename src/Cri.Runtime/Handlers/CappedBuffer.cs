namespace Crisp.Runtime.Handlers;

/// <summary>Collects a stream's bytes up to a cap and keeps draining past it so the writer never blocks.</summary>
internal sealed class CappedBuffer(int cap)
{
    private readonly MemoryStream _kept = new();

    public bool Truncated { get; private set; }

    public async Task DrainAsync(Stream source, CancellationToken ct)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            while (true)
            {
                int n;
                try { n = await source.ReadAsync(buffer.AsMemory(), ct).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
                catch (IOException) { return; }
                catch (ObjectDisposedException) { return; }
                if (n == 0) return;
                var room = cap - (int)_kept.Length;
                if (room > 0)
                {
                    lock (_kept) _kept.Write(buffer, 0, Math.Min(room, n));
                }
                if (n > room) Truncated = true;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public byte[] ToArray()
    {
        lock (_kept) return _kept.ToArray();
    }
}
