using System.Buffers;
using System.Security.Cryptography;
using Crisp.ImageService.Api;
using Crisp.ImageService.References;
using Crisp.Interop;
using Microsoft.Extensions.Logging;

namespace Crisp.ImageService.Content;

/// <summary>
/// Verified blobs by digest under &lt;root&gt;/content/sha256/&lt;hex&gt;. A blob only ever appears
/// there complete: it is written under content/ingest, hashed while written, checked against its
/// descriptor, fsynced and renamed into place. Concurrent requests for one digest share one write.
/// </summary>
public sealed partial class ContentStore
{
    private const int CopyBufferSize = 128 * 1024;

    private readonly string _blobDirectory;
    private readonly string _ingestDirectory;
    private readonly ILogger<ContentStore> _logger;
    private readonly SharedOperations<string, string> _ingests = new();

    public ContentStore(string root, ILogger<ContentStore> logger)
    {
        _logger = logger;
        _blobDirectory = Path.Combine(root, "content", "sha256");
        _ingestDirectory = Path.Combine(root, "content", "ingest");
        OwnedDirectory.Ensure(Path.Combine(root, "content"));
        OwnedDirectory.Ensure(_blobDirectory);
        OwnedDirectory.Ensure(_ingestDirectory);
    }

    /// <summary>Deletes ingest files a crash left behind; call once at start, before any pull.</summary>
    public int SweepIngests()
    {
        int removed = 0;
        foreach (string leftover in Directory.EnumerateFileSystemEntries(_ingestDirectory))
        {
            try
            {
                if (Directory.Exists(leftover) && !File.GetAttributes(leftover).HasFlag(FileAttributes.ReparsePoint))
                    Directory.Delete(leftover, recursive: true);
                else
                    File.Delete(leftover);
                removed++;
            }
            catch (IOException ex)
            {
                LogSweepFailed(leftover, ex.Message);
            }
        }
        if (removed > 0) LogSwept(removed);
        return removed;
    }

    public string PathOf(string digest)
    {
        string? problem = Digests.Validate(digest);
        if (problem is not null) throw new ImageServiceException(ImageErrorKind.InvalidArgument, $"digest \"{digest}\": {problem}");
        return Path.Combine(_blobDirectory, digest[Digests.Sha256Prefix.Length..]);
    }

    public bool Contains(string digest) => File.Exists(PathOf(digest));

    /// <summary>Digests of every stored blob.</summary>
    public IEnumerable<string> List() =>
        Directory.EnumerateFiles(_blobDirectory)
            .Select(path => Digests.Sha256Prefix + Path.GetFileName(path))
            .Where(Digests.IsValid);

    public bool Delete(string digest)
    {
        string path = PathOf(digest);
        if (!File.Exists(path)) return false;
        File.Delete(path);
        return true;
    }

    public async Task<byte[]> ReadAllAsync(string digest, CancellationToken cancellationToken) =>
        await File.ReadAllBytesAsync(PathOf(digest), cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Makes sure the blob is stored, downloading it with <paramref name="open"/> when it is not.
    /// Callers asking for the same digest at the same time share one download. Returns the path.
    /// </summary>
    public async Task<string> EnsureAsync(
        string digest, long size, BlobSource source, Func<CancellationToken, Task<Stream>> open, CancellationToken cancellationToken)
    {
        string path = PathOf(digest);
        if (File.Exists(path)) return path;
        return await _ingests.RunAsync(digest, async token =>
        {
            if (File.Exists(path)) return path;
            Stream stream = await open(token).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                return await WriteAsync(digest, size, source, stream, token).ConfigureAwait(false);
            }
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stores bytes already in memory (a manifest the registry client fetched and verified).</summary>
    public async Task<string> PutAsync(string digest, ReadOnlyMemory<byte> content, BlobSource source, CancellationToken cancellationToken)
    {
        string path = PathOf(digest);
        if (File.Exists(path)) return path;
        using var stream = new MemoryStream(content.ToArray(), writable: false);
        return await WriteAsync(digest, content.Length, source, stream, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Copies <paramref name="content"/> to an ingest file, verifying as it goes, then publishes it.</summary>
    public async Task<string> WriteAsync(string digest, long size, BlobSource source, Stream content, CancellationToken cancellationToken)
    {
        string finalPath = PathOf(digest);
        string description = source.Describe(digest);
        string temporary = Path.Combine(_ingestDirectory, $"{digest[Digests.Sha256Prefix.Length..]}-{Guid.NewGuid():N}");
        byte[] buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        bool published = false;
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long written = 0;
            // No PreallocationSize: the size is the registry's or manifest's claim, and reserving it
            // up front would let a lying descriptor fill the disk before a byte arrived. The file
            // grows only by what was actually delivered.
            var options = new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                BufferSize = 0,
                Options = FileOptions.Asynchronous,
            };
            var file = OwnedFile.Open(temporary, options, FileModes.PrivateFile);
            await using (file.ConfigureAwait(false))
            {
                while (true)
                {
                    // Read at most one byte past the declared size: enough to prove the blob too long.
                    int want = (int)Math.Min(buffer.Length, Math.Max(1, size + 1 - written));
                    int read = await content.ReadAsync(buffer.AsMemory(0, want), cancellationToken).ConfigureAwait(false);
                    if (read == 0) break;
                    written += read;
                    if (written > size)
                    {
                        throw new ImageServiceException(ImageErrorKind.DataLoss,
                            $"{description}: size mismatch (longer than the {size} bytes its descriptor declares)");
                    }
                    hash.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                }
                if (written != size)
                {
                    throw new ImageServiceException(ImageErrorKind.DataLoss, $"{description}: truncated (got {written} of {size} bytes)");
                }
                string actual = Digests.Sha256Prefix + Convert.ToHexStringLower(hash.GetHashAndReset());
                if (actual != digest)
                {
                    throw new ImageServiceException(ImageErrorKind.DataLoss, $"{description}: digest mismatch (got {actual})");
                }
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, finalPath, overwrite: true);
            published = true;
            LogStored(digest, size);
            return finalPath;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (!published)
            {
                try
                {
                    File.Delete(temporary);
                }
                catch (IOException ex)
                {
                    LogSweepFailed(temporary, ex.Message);
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Stored {Digest} ({Size} bytes)")]
    private partial void LogStored(string digest, long size);

    [LoggerMessage(Level = LogLevel.Information, Message = "Removed {Count} unfinished blob downloads left by an earlier run")]
    private partial void LogSwept(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not remove unfinished download {Path}: {Reason}")]
    private partial void LogSweepFailed(string path, string reason);
}
