using System.Buffers;
using System.Globalization;
using System.Text;

namespace Crisp.Runtime.Handlers;

/// <summary>
/// The stdout and stderr of one ExecSync, collected while the process runs and held together to one byte budget
/// so that both fit in a single gRPC response (the kubelet refuses a message over 16 MiB). Bytes past the budget
/// are read and dropped, never stored: a process flooding its output neither blocks on a full pipe nor grows a
/// buffer or file. A stream that lost bytes ends with a marker saying how many, so the truncation is visible to
/// whoever reads the probe's output. The budget is shared in arrival order, as one response holds both streams.
/// </summary>
internal sealed class ExecSyncOutput : IDisposable
{
    /// <summary>The longest marker <see cref="Marker"/> can produce (two 19-digit numbers and the text).</summary>
    internal const int MaxMarkerBytes = 160;

    /// <summary>
    /// Room a response needs besides the output: protobuf tags and lengths of stdout, stderr and the exit code
    /// (under 32 bytes), plus a truncation marker on each stream.
    /// </summary>
    internal const int ResponseOverheadBytes = 64 + 2 * MaxMarkerBytes;

    private const int FirstBufferBytes = 4096;

    private readonly Lock _gate = new();
    private readonly Part _stdout = new();
    private readonly Part _stderr = new();
    private int _stored;
    private bool _disposed;

    public ExecSyncOutput(int budgetBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(budgetBytes);
        BudgetBytes = budgetBytes;
        Stdout = new Sink(this, _stdout);
        Stderr = new Sink(this, _stderr);
    }

    /// <summary>How many bytes of output (stdout and stderr together) a response to a client may carry.</summary>
    public static int BudgetFor(long maxResponseBytes) =>
        (int)Math.Clamp(maxResponseBytes - ResponseOverheadBytes, 0, int.MaxValue);

    public int BudgetBytes { get; }

    /// <summary>Write-only stream the process's stdout is copied into; writes never fail or block.</summary>
    public Stream Stdout { get; }

    public Stream Stderr { get; }

    /// <summary>Bytes read from the process but not kept, both streams together.</summary>
    public long DroppedBytes
    {
        get { lock (_gate) return _stdout.Dropped + _stderr.Dropped; }
    }

    /// <summary>The output as the response carries it: each stream that lost bytes ends with a marker.</summary>
    public (byte[] Stdout, byte[] Stderr) ToArrays()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return (_stdout.ToArray(Marker(_stdout.Dropped)), _stderr.ToArray(Marker(_stderr.Dropped)));
        }
    }

    /// <summary>What stderr holds so far as text (at most <paramref name="maxChars"/>), for error messages.</summary>
    public string StderrText(int maxChars)
    {
        lock (_gate)
        {
            if (_disposed) return "";
            var text = Encoding.UTF8.GetString(_stderr.Stored);
            return text.Length > maxChars ? text[..maxChars] : text;
        }
    }

    internal string Marker(long dropped) => dropped == 0 ? "" : string.Create(CultureInfo.InvariantCulture,
        $"\n[crisp: output truncated, {dropped} more bytes dropped; stdout and stderr together are limited to {BudgetBytes} bytes]\n");

    private void Append(Part part, ReadOnlySpan<byte> bytes)
    {
        lock (_gate)
        {
            if (_disposed) return;
            var take = Math.Min(BudgetBytes - _stored, bytes.Length);
            if (take > 0)
            {
                part.Write(bytes[..take], BudgetBytes);
                _stored += take;
            }
            part.Dropped += bytes.Length - take;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _stdout.Release();
            _stderr.Release();
        }
    }

    /// <summary>One stream's kept bytes, in a buffer from the shared pool that grows as output arrives.</summary>
    private sealed class Part
    {
        private byte[] _buffer = [];
        private int _length;

        public long Dropped { get; set; }

        public ReadOnlySpan<byte> Stored => _buffer.AsSpan(0, _length);

        public void Write(ReadOnlySpan<byte> bytes, int budget)
        {
            var length = _length;
            var needed = length + bytes.Length;
            if (needed > _buffer.Length)
            {
                // Doubling keeps copies rare; never past the budget, which no stream can exceed.
                var size = Math.Min(Math.Max(Math.Max(needed, FirstBufferBytes), 2 * _buffer.Length), Math.Max(needed, budget));
                var bigger = ArrayPool<byte>.Shared.Rent(size);
                Stored.CopyTo(bigger);
                Release();
                _buffer = bigger;
            }
            bytes.CopyTo(_buffer.AsSpan(length));
            _length = needed;
        }

        public byte[] ToArray(string marker)
        {
            var markerBytes = Encoding.UTF8.GetByteCount(marker);
            var result = new byte[_length + markerBytes];
            Stored.CopyTo(result);
            Encoding.UTF8.GetBytes(marker, result.AsSpan(_length));
            return result;
        }

        public void Release()
        {
            if (_buffer.Length > 0) ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
            _length = 0;
        }
    }

    private sealed class Sink(ExecSyncOutput owner, Part part) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(ReadOnlySpan<byte> buffer) => owner.Append(part, buffer);

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Write(buffer.AsSpan(offset, count));
            return Task.CompletedTask;
        }

        public override void Flush() { }
        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
