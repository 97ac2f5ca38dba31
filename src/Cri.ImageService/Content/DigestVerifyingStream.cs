using System.Security.Cryptography;
using Crisp.ImageService.Api;

namespace Crisp.ImageService.Content;

/// <summary>
/// A read-only pass-through that hashes and counts what flows through it and refuses, as soon as
/// it can tell, a blob that is longer or shorter than its descriptor or whose digest differs.
/// The check happens when the inner stream reports its end, so a reader that consumes the stream
/// to its end can never have seen unverified bytes accepted.
/// </summary>
public sealed class DigestVerifyingStream : Stream
{
    private readonly Stream _inner;
    private readonly string _expectedDigest;
    private readonly long _expectedSize;
    private readonly string _description;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly bool _leaveOpen;
    private long _bytesRead;
    private bool _verified;

    /// <param name="description">Names the blob and its origin, e.g. "blob sha256:… from registry R repository X".</param>
    public DigestVerifyingStream(Stream inner, string expectedDigest, long expectedSize, string description, bool leaveOpen = false)
    {
        _inner = inner;
        _expectedDigest = expectedDigest;
        _expectedSize = expectedSize;
        _description = description;
        _leaveOpen = leaveOpen;
    }

    public long BytesRead => _bytesRead;

    /// <summary>True once the whole blob arrived with the right size and digest.</summary>
    public bool Verified => _verified;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _bytesRead; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int read = _inner.Read(Clamp(buffer));
        return Account(buffer[..read]);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int read = await _inner.ReadAsync(Clamp(buffer), cancellationToken).ConfigureAwait(false);
        return Account(buffer.Span[..read]);
    }

    // One byte more than the descriptor allows is enough to prove the blob too long; never read further.
    private Memory<byte> Clamp(Memory<byte> buffer) => buffer[..ClampLength(buffer.Length)];

    private Span<byte> Clamp(Span<byte> buffer) => buffer[..ClampLength(buffer.Length)];

    private int ClampLength(int requested)
    {
        long allowed = _expectedSize + 1 - _bytesRead;
        return allowed <= 0 ? Math.Min(requested, 1) : (int)Math.Min(requested, allowed);
    }

    private int Account(ReadOnlySpan<byte> data)
    {
        if (data.Length == 0)
        {
            if (!_verified && _expectedSize >= 0) Verify();
            return 0;
        }
        _bytesRead += data.Length;
        if (_bytesRead > _expectedSize)
        {
            throw new ImageServiceException(ImageErrorKind.DataLoss,
                $"{_description}: size mismatch (longer than the {_expectedSize} bytes its descriptor declares)");
        }
        _hash.AppendData(data);
        return data.Length;
    }

    private void Verify()
    {
        if (_bytesRead != _expectedSize)
        {
            throw new ImageServiceException(ImageErrorKind.DataLoss,
                $"{_description}: truncated (got {_bytesRead} of {_expectedSize} bytes)");
        }
        string actual = References.Digests.Sha256Prefix + Convert.ToHexStringLower(_hash.GetHashAndReset());
        if (actual != _expectedDigest)
        {
            throw new ImageServiceException(ImageErrorKind.DataLoss, $"{_description}: digest mismatch (got {actual})");
        }
        _verified = true;
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
            if (!_leaveOpen) _inner.Dispose();
        }
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        _hash.Dispose();
        if (!_leaveOpen) await _inner.DisposeAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }
}
