using System.Formats.Tar;
using System.IO.Compression;
using Crisp.ImageService.Api;
using Crisp.ImageService.Content;
using Crisp.ImageService.Manifests;
using Microsoft.Extensions.Logging;
using ZstdSharp;

namespace Crisp.ImageService.Unpack;

/// <summary>
/// One pass from a layer's compressed bytes to its files: verify the compressed digest and size
/// as the bytes stream past, decompress, hash the uncompressed tar for the diff ID, and extract.
/// Receiving and the compressed digest run a bounded step ahead (<see cref="ReadAheadStream"/>)
/// of decompressing and writing, so the download never waits for a file write. No temporary
/// tarball exists; a layer whose digest, size or diff ID is wrong fails after its last byte,
/// and the caller throws the half-written snapshot away.
/// </summary>
public sealed class LayerUnpacker(ILogger<LayerUnpacker> logger)
{
    private const int TarReadBufferSize = 64 * 1024;

    /// <summary>What an unpack produced, for progress logs.</summary>
    public readonly record struct Result(long CompressedBytes, long UncompressedBytes, int Entries);

    /// <param name="compressed">The layer blob as it arrives; read to its end and disposed by the caller.</param>
    /// <param name="layer">The manifest's descriptor: digest, size and media type (compression).</param>
    /// <param name="diffId">The config's rootfs.diff_ids entry the uncompressed tar must hash to.</param>
    /// <param name="description">Names the layer and its origin, e.g. "layer sha256:… of registry R repository X".</param>
    public async Task<Result> UnpackAsync(
        Stream compressed, Descriptor layer, string diffId, string targetDirectory, string description, CancellationToken cancellationToken)
    {
        if (!MediaTypes.TryGetCompression(layer.MediaType, out LayerCompression compression))
        {
            throw new ImageServiceException(ImageErrorKind.InvalidArgument, $"{description}: unsupported layer media type \"{layer.MediaType}\"");
        }

        var verified = new DigestVerifyingStream(compressed, layer.Digest, layer.Size, description, leaveOpen: true);
        var received = new ReadAheadStream(verified, cancellationToken);
        Stream decompressed = compression switch
        {
            LayerCompression.Gzip => new GZipStream(received, CompressionMode.Decompress, leaveOpen: true),
            LayerCompression.Zstd => new DecompressionStream(received, bufferSize: 0, checkEndOfStream: true, leaveOpen: true),
            _ => received,
        };
        // An uncompressed layer's tar is its blob, whose digest the read-ahead already checks: hashing the same
        // bytes again would prove nothing more, so its diff ID is compared with that verified digest instead.
        HashingReadStream? diff = ReferenceEquals(decompressed, received) ? null : new HashingReadStream(decompressed);
        // The tar reader asks for 512-byte headers; a buffer keeps those from each becoming a decompressor call.
        var buffered = new BufferedStream(diff ?? decompressed, TarReadBufferSize);
        var extractor = new LayerExtractor(targetDirectory, logger);
        string actualDiffId;
        try
        {
            await extractor.ExtractAsync(buffered, cancellationToken).ConfigureAwait(false);
            // Tar ends with zero blocks and often padding after them; the digests cover every byte.
            await DrainAsync(buffered, cancellationToken).ConfigureAwait(false);
            // The end of what was received is the verified end of the blob, or the verification's error.
            if (!ReferenceEquals(decompressed, received)) await DrainAsync(received, cancellationToken).ConfigureAwait(false);
            if (!verified.Verified)
            {
                throw new ImageServiceException(ImageErrorKind.Internal, $"{description}: the blob ended without its digest being checked");
            }
            actualDiffId = diff?.Digest() ?? layer.Digest;
        }
        catch (LayerEntryRefusedException refused)
        {
            throw new ImageServiceException(ImageErrorKind.DataLoss, $"{description}: refused {refused.Message}");
        }
        catch (LayerWriteException failed)
        {
            throw new ImageServiceException(failed.OutOfSpace ? ImageErrorKind.ResourceExhausted : ImageErrorKind.Internal,
                $"{description}: writing {failed.Message}", failed.InnerException);
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or EndOfStreamException or ZstdException)
        {
            string where = extractor.CurrentEntry is { } entry ? $" at entry \"{entry}\"" : "";
            throw new ImageServiceException(ImageErrorKind.DataLoss,
                $"{description}: corrupt {compression} tar stream{where} after {verified.BytesRead} bytes ({ex.Message})", ex);
        }
        finally
        {
            await buffered.DisposeAsync().ConfigureAwait(false);
            if (!ReferenceEquals(decompressed, received)) await decompressed.DisposeAsync().ConfigureAwait(false);
            // Waits for the reading task, so nothing touches the source once this method returns.
            await received.DisposeAsync().ConfigureAwait(false);
            await verified.DisposeAsync().ConfigureAwait(false);
        }

        if (actualDiffId != diffId)
        {
            throw new ImageServiceException(ImageErrorKind.DataLoss,
                $"{description}: uncompressed content does not match the config's diff ID {diffId} (got {actualDiffId})");
        }
        return new Result(verified.BytesRead, diff?.BytesRead ?? verified.BytesRead, extractor.EntryCount);
    }

    private static async Task DrainAsync(Stream stream, CancellationToken cancellationToken)
    {
        byte[] scratch = System.Buffers.ArrayPool<byte>.Shared.Rent(TarReadBufferSize);
        try
        {
            while (await stream.ReadAsync(scratch.AsMemory(), cancellationToken).ConfigureAwait(false) > 0)
            {
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(scratch);
        }
    }
}
