using System.Text;
using Crisp.ImageService.Api;
using Crisp.ImageService.Content;
using Crisp.ImageService.References;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Crisp.ImageService.Tests.Content;

public sealed class ContentStoreTests : IDisposable
{
    private static readonly BlobSource Source = new("registry.test", "team/app");
    private readonly string _root = Directory.CreateTempSubdirectory("crisp-content-").FullName;
    private readonly ContentStore _store;

    public ContentStoreTests() => _store = new ContentStore(_root, NullLogger<ContentStore>.Instance);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string IngestDirectory => Path.Combine(_root, "content", "ingest");

    private static (byte[] Bytes, string Digest) Blob(string text)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        return (bytes, Digests.Sha256Of(bytes));
    }

    [Fact]
    public async Task StoresAVerifiedBlobUnderItsDigest()
    {
        var (bytes, digest) = Blob("hello blob");

        string path = await _store.WriteAsync(digest, bytes.Length, Source, new MemoryStream(bytes), CancellationToken.None);

        Assert.Equal(Path.Combine(_root, "content", "sha256", digest["sha256:".Length..]), path);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(path));
        Assert.True(_store.Contains(digest));
        Assert.Equal([digest], _store.List());
        Assert.Empty(Directory.EnumerateFileSystemEntries(IngestDirectory));
    }

    [Fact]
    public async Task ADigestMismatchIsDataLossAndKeepsNothing()
    {
        var (bytes, _) = Blob("what the registry sent");
        var (_, expected) = Blob("what the manifest promised");

        var error = await Assert.ThrowsAsync<ImageServiceException>(() =>
            _store.WriteAsync(expected, bytes.Length, Source, new MemoryStream(bytes), CancellationToken.None));

        Assert.Equal(ImageErrorKind.DataLoss, error.Kind);
        Assert.Equal($"blob {expected} from registry registry.test repository team/app: digest mismatch (got {Digests.Sha256Of(bytes)})", error.Message);
        Assert.False(_store.Contains(expected));
        Assert.Empty(Directory.EnumerateFileSystemEntries(IngestDirectory));
    }

    [Fact]
    public async Task ATruncatedBlobIsDataLossAndKeepsNothing()
    {
        var (bytes, digest) = Blob("a blob that will be cut short");

        var error = await Assert.ThrowsAsync<ImageServiceException>(() =>
            _store.WriteAsync(digest, bytes.Length, Source, new MemoryStream(bytes[..10]), CancellationToken.None));

        Assert.Equal(ImageErrorKind.DataLoss, error.Kind);
        Assert.Contains($"truncated (got 10 of {bytes.Length} bytes)", error.Message);
        Assert.False(_store.Contains(digest));
        Assert.Empty(Directory.EnumerateFileSystemEntries(IngestDirectory));
    }

    [Fact]
    public async Task ABlobLongerThanDeclaredIsRefusedWithoutReadingItAll()
    {
        var (bytes, digest) = Blob("declared short");
        var endless = new EndlessStream();

        var error = await Assert.ThrowsAsync<ImageServiceException>(() =>
            _store.WriteAsync(digest, bytes.Length, Source, endless, CancellationToken.None));

        Assert.Equal(ImageErrorKind.DataLoss, error.Kind);
        Assert.Contains("size mismatch", error.Message);
        Assert.True(endless.Served <= bytes.Length + 1);
        Assert.Empty(Directory.EnumerateFileSystemEntries(IngestDirectory));
    }

    [Fact]
    public async Task ConcurrentRequestsForOneDigestShareOneDownload()
    {
        var (bytes, digest) = Blob(new string('b', 500_000));
        int opened = 0;
        var gate = new TaskCompletionSource();

        async Task<Stream> Open(CancellationToken token)
        {
            Interlocked.Increment(ref opened);
            await gate.Task.WaitAsync(token);
            return new MemoryStream(bytes);
        }

        var requests = Enumerable.Range(0, 8).Select(_ => _store.EnsureAsync(digest, bytes.Length, Source, Open, CancellationToken.None)).ToList();
        await Task.Delay(50);
        gate.SetResult();
        string[] paths = await Task.WhenAll(requests);

        Assert.Equal(1, opened);
        Assert.All(paths, path => Assert.Equal(paths[0], path));
        Assert.Equal(bytes, await File.ReadAllBytesAsync(paths[0]));
    }

    [Fact]
    public async Task APresentBlobIsNotDownloadedAgain()
    {
        var (bytes, digest) = Blob("already here");
        await _store.PutAsync(digest, bytes, Source, CancellationToken.None);

        string path = await _store.EnsureAsync(digest, bytes.Length, Source,
            _ => throw new InvalidOperationException("must not download"), CancellationToken.None);

        Assert.Equal(bytes, await File.ReadAllBytesAsync(path));
    }

    [Fact]
    public async Task SweepRemovesUnfinishedIngests()
    {
        await File.WriteAllTextAsync(Path.Combine(IngestDirectory, "leftover-from-crash"), "partial");

        var store = new ContentStore(_root, NullLogger<ContentStore>.Instance);

        Assert.Equal(1, store.SweepIngests());
        Assert.Empty(Directory.EnumerateFileSystemEntries(IngestDirectory));
    }

    [Fact]
    public async Task DeleteRemovesTheBlob()
    {
        var (bytes, digest) = Blob("doomed");
        await _store.PutAsync(digest, bytes, Source, CancellationToken.None);

        Assert.True(_store.Delete(digest));
        Assert.False(_store.Contains(digest));
        Assert.False(_store.Delete(digest));
    }

    [Fact]
    public void AnInvalidDigestIsRefused()
    {
        var error = Assert.Throws<ImageServiceException>(() => _store.PathOf("sha256:../../etc/passwd"));
        Assert.Equal(ImageErrorKind.InvalidArgument, error.Kind);
    }

    [Fact]
    public async Task ALyingDescriptorSizeReservesNoDiskBeyondWhatArrived()
    {
        var (bytes, digest) = Blob("all the registry really sent");
        const long claimed = 64 * 1024 * 1024;
        ulong largestOnDisk = 0;
        var content = new ShortStream(bytes, atEnd: () =>
        {
            foreach (string ingest in Directory.EnumerateFiles(IngestDirectory))
            {
                Crisp.Interop.Libc.EntryStatus status = Crisp.Interop.Libc.StatNoFollow(ingest)!.Value;
                largestOnDisk = Math.Max(largestOnDisk, Math.Max(status.Size, status.Blocks * 512));
            }
        });

        var error = await Assert.ThrowsAsync<ImageServiceException>(() => _store.WriteAsync(digest, claimed, Source, content, CancellationToken.None));

        Assert.Equal(ImageErrorKind.DataLoss, error.Kind);
        Assert.Contains($"truncated (got {bytes.Length} of {claimed} bytes)", error.Message);
        Assert.InRange(largestOnDisk, 1UL, 64UL * 1024);
    }

    /// <summary>Serves its bytes, then runs <c>atEnd</c> (with the download still open) and reports the end.</summary>
    private sealed class ShortStream(byte[] content, Action atEnd) : Stream
    {
        private int _position;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_position == content.Length)
            {
                atEnd();
                return 0;
            }
            int served = Math.Min(count, content.Length - _position);
            Array.Copy(content, _position, buffer, offset, served);
            _position += served;
            return served;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private sealed class EndlessStream : Stream
    {
        public long Served { get; private set; }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => Served; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count)
        {
            Array.Fill(buffer, (byte)'x', offset, count);
            Served += count;
            return count;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
