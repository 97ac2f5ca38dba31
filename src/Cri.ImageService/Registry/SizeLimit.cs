using System.Buffers;
using Crisp.ImageService.Api;
using Crisp.ImageService.Manifests;
using Microsoft.Extensions.Logging;

namespace Crisp.ImageService.Registry;

/// <summary>
/// A bound on a registry document crispd holds whole in memory. The registry (or whoever answers
/// in its name) decides how many bytes it sends; without a bound it would decide how much memory
/// crispd uses. Each limit has a name, logged when it is hit, so the cause of a refusal is found
/// in the logs.
/// </summary>
/// <param name="Name">The limit's name in logs.</param>
/// <param name="Subject">What the document is, in error messages ("manifest", "token response").</param>
internal sealed record SizeLimit(string Name, string Subject, int Bytes)
{
    private const int MiB = 1024 * 1024;
    private const int ChunkSize = 64 * 1024;

    public static readonly SizeLimit Manifest = new("MaxManifestBytes", "manifest", ManifestParser.MaxManifestBytes);

    /// <summary>
    /// A token response is a few KiB of JSON, even with large JWTs; go-containerregistry stops at
    /// 64 KiB, containerd reads without a bound. 1 MiB leaves room for any real token service.
    /// </summary>
    public static readonly SizeLimit TokenResponse = new("MaxTokenResponseBytes", "token response", 1 * MiB);

    /// <summary>Configs are small JSON documents; a huge one is a broken or hostile registry.</summary>
    public static readonly SizeLimit ImageConfig = new("MaxImageConfigBytes", "image config", 16 * MiB);

    /// <summary>Logs the hit and returns the error to throw.</summary>
    /// <param name="what">Names the document and where it came from, e.g. "image x from registry y".</param>
    /// <param name="size">How big it is or claims to be, e.g. "5000000 bytes declared".</param>
    public ImageServiceException Exceeded(string what, string size, ILogger logger)
    {
        RegistryLog.SizeLimitHit(logger, Name, Bytes, what, size);
        return new ImageServiceException(ImageErrorKind.ResourceExhausted, $"{what}: {Subject} larger than {Bytes / MiB} MiB ({size})");
    }

    /// <summary>
    /// Reads <paramref name="response"/>'s body into memory, refusing it once it passes the limit:
    /// at once when Content-Length announces more, else after reading one byte past the limit, so a
    /// body without end costs at most the limit.
    /// </summary>
    public async Task<byte[]> ReadAsync(HttpResponseMessage response, string what, ILogger logger, CancellationToken ct)
    {
        if (response.Content.Headers.ContentLength is long declared && declared > Bytes)
        {
            throw Exceeded(what, $"{declared} bytes declared", logger);
        }
        Stream body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        await using (body.ConfigureAwait(false))
        {
            using var content = new MemoryStream();
            byte[] chunk = ArrayPool<byte>.Shared.Rent(ChunkSize);
            try
            {
                int read;
                while ((read = await body.ReadAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, Bytes + 1L - content.Length)), ct).ConfigureAwait(false)) > 0)
                {
                    content.Write(chunk, 0, read);
                    if (content.Length > Bytes)
                    {
                        throw Exceeded(what, $"more than {Bytes} bytes sent", logger);
                    }
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(chunk);
            }
            return content.ToArray();
        }
    }
}
