using Crisp.ImageService.Api;
using Crisp.ImageService.Manifests;
using Microsoft.Extensions.Logging;

namespace Crisp.ImageService.Registry;

/// <summary>
/// A blob download that survives connection resets, truncated bodies and stalls by reopening the
/// blob at the offset already delivered. The consumer sees one uninterrupted stream of exactly
/// <see cref="Descriptor.Size"/> bytes (or an error); verifying the digest is the consumer's job.
/// </summary>
internal sealed class ResumableBlobStream : Stream
{
    private readonly Func<long, CancellationToken, Task<Stream>> _reopen;
    private readonly Descriptor _blob;
    private readonly string _endpoint;
    private readonly RetryPolicy _retry;
    private readonly RegistryClientOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private Stream? _current;
    private long _position;
    private int _failuresWithoutProgress;
    private bool _disposed;

    public ResumableBlobStream(Stream first, Func<long, CancellationToken, Task<Stream>> reopen, Descriptor blob, string endpoint,
        RetryPolicy retry, RegistryClientOptions options, TimeProvider time, ILogger logger)
    {
        _current = first;
        _reopen = reopen;
        _blob = blob;
        _endpoint = endpoint;
        _retry = retry;
        _options = options;
        _time = time;
        _logger = logger;
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => _blob.Size;
    public override long Position { get => _position; set => throw new NotSupportedException(); }

    /// <summary>How many times the download was resumed (observability and tests).</summary>
    public int Resumptions { get; private set; }

    public override int Read(byte[] buffer, int offset, int count) =>
        throw new NotSupportedException("registry blob streams are read asynchronously (ReadAsync/CopyToAsync)");

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (buffer.Length == 0 || _position == _blob.Size)
        {
            return 0;
        }
        while (true)
        {
            string reason;
            Exception? failure = null;
            try
            {
                if (_current is null)
                {
                    _current = await _reopen(_position, cancellationToken).ConfigureAwait(false);
                }
                int read;
                using (var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    idle.CancelAfter(_options.BlobReadIdleTimeout);
                    read = await _current.ReadAsync(buffer, idle.Token).ConfigureAwait(false);
                }
                if (read > 0)
                {
                    if (_position + read > _blob.Size)
                    {
                        throw new ImageServiceException(ImageErrorKind.DataLoss,
                            $"blob {_blob.Digest} from {_endpoint} is longer than the {_blob.Size} bytes its descriptor declares");
                    }
                    _position += read;
                    _failuresWithoutProgress = 0;
                    return read;
                }
                if (_position == _blob.Size)
                {
                    return 0;
                }
                reason = $"body ended after {_position} of {_blob.Size} bytes";
            }
            catch (ImageServiceException e) when (e.Kind is ImageErrorKind.Unavailable or ImageErrorKind.DeadlineExceeded && !cancellationToken.IsCancellationRequested)
            {
                // The reopen request already used up its own retries.
                reason = e.Message;
                failure = e;
            }
            catch (Exception e) when (e is not ImageServiceException && RetryPolicy.IsTransient(e, cancellationToken))
            {
                reason = e is OperationCanceledException ? $"no data for {_options.BlobReadIdleTimeout.TotalSeconds:0} s" : e.Message;
                failure = e;
            }

            _current?.Dispose();
            _current = null;
            _failuresWithoutProgress++;
            if (_failuresWithoutProgress > _options.MaxBlobResumes)
            {
                throw new ImageServiceException(ImageErrorKind.Unavailable,
                    $"blob {_blob.Digest} from {_endpoint}: download failed at byte {_position} of {_blob.Size} after {_options.MaxBlobResumes} resumptions: {reason}",
                    failure);
            }
            TimeSpan delay = _retry.Delay(_failuresWithoutProgress);
            RegistryLog.ResumingBlob(_logger, _blob.Digest, _endpoint, _position, _blob.Size, (long)delay.TotalMilliseconds, reason);
            await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
            Resumptions++;
        }
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        if (disposing)
        {
            _current?.Dispose();
            _current = null;
        }
        base.Dispose(disposing);
    }
}
