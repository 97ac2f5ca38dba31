using System.Buffers;
using System.Net;
using Crisp.ImageService.Api;
using Crisp.ImageService.Manifests;
using Crisp.ImageService.References;
using Microsoft.Extensions.Logging;

namespace Crisp.ImageService.Registry;

/// <summary>
/// Talks the OCI distribution API to registries: resolves a reference to the manifest for a
/// platform and opens blob streams. One instance per daemon; thread-safe.
/// </summary>
public sealed class RegistryClient : IDisposable
{
    /// <summary>An index pointing at an index pointing at... is legal OCI but never useful this deep.</summary>
    private const int MaxIndexDepth = 3;

    // Replaced whole on SIGHUP (an immutable snapshot): a pull in flight keeps the endpoints it resolved with.
    private volatile RegistryConfiguration _configuration;
    private readonly ILogger<RegistryClient> _logger;
    private readonly RegistryClientOptions _options;
    private readonly TimeProvider _time;
    private readonly RegistryTransport _transport;

    public RegistryClient(RegistryConfiguration configuration, ILogger<RegistryClient> logger)
        : this(configuration, logger, new RegistryClientOptions(), TimeProvider.System)
    {
    }

    public RegistryClient(RegistryConfiguration configuration, ILogger<RegistryClient> logger, RegistryClientOptions options, TimeProvider time)
    {
        _configuration = configuration;
        _logger = logger;
        _options = options;
        _time = time;
        _transport = new RegistryTransport(options, time, logger);
    }

    public RegistryConfiguration Configuration => _configuration;

    /// <summary>Pulls that start after this call use <paramref name="configuration"/> (registries.conf re-read on SIGHUP).</summary>
    public void UseConfiguration(RegistryConfiguration configuration) => _configuration = configuration;

    /// <summary>
    /// Resolves <paramref name="reference"/> to the manifest for <paramref name="platform"/>, trying
    /// registries.conf mirrors in order and then the registry's location. Every manifest fetched
    /// is checked against its digest and size; schema1, unknown media types and manifests over
    /// 4 MiB are refused.
    /// </summary>
    public async Task<ResolvedManifest> ResolveAsync(ImageReference reference, Platform platform, RegistryCredentials? credentials, CancellationToken ct)
    {
        IReadOnlyList<RegistryEndpoint> endpoints = Configuration.EndpointsFor(reference);
        for (int i = 0; ; i++)
        {
            RegistryEndpoint endpoint = endpoints[i];
            bool last = i == endpoints.Count - 1;
            try
            {
                RegistryLog.Resolving(_logger, reference.ToString(), endpoint.ToString());
                var target = new RequestTarget(endpoint, CredentialsFor(reference, endpoint, credentials));
                ResolvedManifest resolved = await ResolveAtAsync(reference, target, platform, ct).ConfigureAwait(false);
                RegistryLog.Resolved(_logger, reference.ToString(), resolved.ManifestDigest, resolved.RepoDigest, endpoint.ToString());
                return resolved;
            }
            catch (ImageServiceException e) when (!last && endpoint.IsMirror)
            {
                // A mirror is an optimisation: whatever it gets wrong, the registry itself gets the final say.
                RegistryLog.MirrorFailed(_logger, endpoint.ToString(), reference.ToString(), e.Message);
            }
        }
    }

    /// <summary>
    /// Credentials from the pull request belong to the image's registry. They go to its configured
    /// location, and to a mirror only when the mirror is that same host: a mirror run by someone
    /// else must not receive them.
    /// </summary>
    private static RegistryCredentials? CredentialsFor(ImageReference reference, RegistryEndpoint endpoint, RegistryCredentials? credentials) =>
        credentials is null || !endpoint.IsMirror || endpoint.Host == RegistryHosts.ApiHost(reference.Registry) ? credentials : null;

    private async Task<ResolvedManifest> ResolveAtAsync(ImageReference reference, RequestTarget target, Platform platform, CancellationToken ct)
    {
        string tagOrDigest = reference.Digest ?? reference.Tag ?? ImageReference.DefaultTag;
        FetchedManifest top = await FetchManifestAsync(target, reference, tagOrDigest, expected: null, ct).ConfigureAwait(false);
        string repoDigest = reference.Name + "@" + top.Digest;

        FetchedManifest current = top;
        byte[]? indexBytes = null;
        string? indexMediaType = null;
        for (int depth = 0; current.Document.Index is { } index; depth++)
        {
            if (depth >= MaxIndexDepth)
            {
                throw new ImageServiceException(ImageErrorKind.FailedPrecondition,
                    $"image {reference}: indexes nested more than {MaxIndexDepth} deep in registry {target.Host}");
            }
            if (depth == 0)
            {
                indexBytes = current.Bytes;
                indexMediaType = current.Document.MediaType;
            }
            Descriptor entry = PlatformMatcher.Select(index.Manifests, platform)
                ?? throw new ImageServiceException(ImageErrorKind.NotFound,
                    $"no manifest for {platform} in index {current.Digest} of image {reference} (available: {DescribePlatforms(index)})");
            current = await FetchManifestAsync(target, reference, entry.Digest, entry, ct).ConfigureAwait(false);
        }

        return new ResolvedManifest(reference, target.Endpoint, current.Digest, repoDigest, current.Document.Manifest!, current.Bytes, target.Credentials)
        {
            IndexBytes = indexBytes,
            IndexMediaType = indexMediaType,
        };
    }

    private static string DescribePlatforms(ImageIndex index)
    {
        var platforms = index.Manifests.Where(m => m.Platform is not null).Select(m => m.Platform!.ToString()).Distinct().ToList();
        return platforms.Count == 0 ? "none" : string.Join(", ", platforms);
    }

    private sealed record FetchedManifest(string Digest, byte[] Bytes, ManifestDocument Document);

    /// <param name="expected">The index entry being followed, whose digest and size the bytes must match; null for the top-level reference.</param>
    private async Task<FetchedManifest> FetchManifestAsync(RequestTarget target, ImageReference reference, string tagOrDigest, Descriptor? expected, CancellationToken ct)
    {
        string what = expected is null ? $"image {reference}" : $"manifest {expected.Digest} of image {reference}";
        if (expected is not null && expected.Size > SizeLimit.Manifest.Bytes)
        {
            throw SizeLimit.Manifest.Exceeded($"{what} from registry {target.Host}", $"{expected.Size} bytes declared by its index", _logger);
        }

        string path = $"/v2/{target.Repository}/manifests/{tagOrDigest}";
        using HttpResponseMessage response = await _transport.GetAsync(target, path, request =>
        {
            foreach (string mediaType in MediaTypes.AcceptedManifestTypes)
            {
                request.Headers.Accept.ParseAdd(mediaType);
            }
        }, ct).ConfigureAwait(false);

        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            throw new ImageServiceException(ImageErrorKind.NotFound,
                expected is null
                    ? $"image {reference} not found in registry {target.Host} (repository {target.Repository})"
                    : $"{what} not found in registry {target.Host}");
        }
        if (!response.IsSuccessStatusCode)
        {
            throw new ImageServiceException(ImageErrorKind.Unavailable,
                $"registry {target.Host} answered HTTP {(int)response.StatusCode} for {what}");
        }
        byte[] bytes = await ReadCappedAsync(response, what, target, ct).ConfigureAwait(false);
        string actual = Digests.Sha256Of(bytes);

        string? expectedDigest = expected?.Digest ?? reference.Digest;
        if (expectedDigest is null && response.Headers.TryGetValues("Docker-Content-Digest", out IEnumerable<string>? headerValues))
        {
            string header = headerValues.First().Trim();
            // A digest in another algorithm cannot be checked here; the bytes' own sha256 identifies them.
            if (header.StartsWith(Digests.Sha256Prefix, StringComparison.Ordinal))
            {
                expectedDigest = header;
            }
        }
        if (expectedDigest is not null && expectedDigest != actual)
        {
            throw new ImageServiceException(ImageErrorKind.DataLoss,
                $"{what} from registry {target.Host}: manifest digest mismatch: expected {expectedDigest}, got {actual}");
        }
        if (expected is not null && expected.Size != bytes.Length)
        {
            throw new ImageServiceException(ImageErrorKind.DataLoss,
                $"{what} from registry {target.Host}: manifest size mismatch: index says {expected.Size} bytes, got {bytes.Length}");
        }

        ManifestDocument document = ManifestParser.Parse(bytes, response.Content.Headers.ContentType?.ToString(), $"{what} from registry {target.Host}");
        return new FetchedManifest(actual, bytes, document);
    }

    private async Task<byte[]> ReadCappedAsync(HttpResponseMessage response, string what, RequestTarget target, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.ResponseTimeout);
        try
        {
            return await SizeLimit.Manifest.ReadAsync(response, $"{what} from registry {target.Host}", _logger, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not ImageServiceException && RetryPolicy.IsTransient(e, ct))
        {
            throw new ImageServiceException(ImageErrorKind.Unavailable, $"{what}: reading the manifest from registry {target.Host} failed: {e.Message}", e);
        }
    }

    /// <summary>
    /// Opens the blob <paramref name="blob"/> from the endpoint that served <paramref name="source"/>.
    /// The stream resumes with a Range request after connection resets, server errors and stalls.
    /// It does not verify the digest (the content store does while writing), but it refuses to
    /// deliver more bytes than the descriptor's size. Use ReadAsync/CopyToAsync: synchronous reads
    /// are not supported.
    /// </summary>
    public async Task<Stream> OpenBlobAsync(ResolvedManifest source, Descriptor blob, CancellationToken ct)
    {
        var target = new RequestTarget(source.Endpoint, source.Credentials);
        string what = $"blob {blob.Digest} of image {source.Reference}";
        string? digestProblem = Digests.Validate(blob.Digest);
        if (digestProblem is not null)
        {
            throw new ImageServiceException(ImageErrorKind.InvalidArgument, $"{what}: {digestProblem}");
        }
        var opener = new BlobOpener(this, target, blob, what);
        Stream first = await opener.OpenAsync(0, ct).ConfigureAwait(false);
        return new ResumableBlobStream(first, opener.OpenAsync, blob, target.Endpoint.ToString(), _transport.Retry, _options, _time, _logger);
    }

    /// <summary>Opens a blob body from a byte offset: the first request and every resumption.</summary>
    private sealed class BlobOpener(RegistryClient client, RequestTarget target, Descriptor blob, string what)
    {
        public async Task<Stream> OpenAsync(long offset, CancellationToken ct)
        {
            string path = $"/v2/{target.Repository}/blobs/{blob.Digest}";
            HttpResponseMessage response = await client._transport.GetAsync(target, path, request =>
            {
                if (offset > 0)
                {
                    request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(offset, null);
                }
            }, ct).ConfigureAwait(false);
            try
            {
                if (response.StatusCode == HttpStatusCode.NotFound)
                {
                    throw new ImageServiceException(ImageErrorKind.NotFound, $"{what} not found in registry {target.Host} (repository {target.Repository})");
                }
                if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && offset > 0)
                {
                    // The registry has no byte at this offset: its blob is shorter than the descriptor, and stays so.
                    throw Truncated($"has no byte {offset} (HTTP 416)");
                }
                if (response.StatusCode == HttpStatusCode.PartialContent)
                {
                    long? start = response.Content.Headers.ContentRange?.From;
                    if (start is long from && from != offset)
                    {
                        throw new IOException($"registry {target.Host} answered a Range request for byte {offset} with content from byte {from}");
                    }
                    if (response.Content.Headers.ContentRange?.Length is long total && total != blob.Size)
                    {
                        throw Truncated($"holds {total} bytes");
                    }
                    return new ResponseStream(response, await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false));
                }
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    throw new ImageServiceException(ImageErrorKind.Unavailable, $"registry {target.Host} answered HTTP {(int)response.StatusCode} for {what}");
                }
                if (response.Content.Headers.ContentLength is long length && length != blob.Size)
                {
                    // A whole-blob answer announcing another length is the registry's stored blob, not a network accident.
                    throw Truncated($"serves {length} bytes");
                }
                Stream body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
                if (offset > 0)
                {
                    // The server ignored Range: read past what we already have.
                    RegistryLog.RangeIgnored(client._logger, blob.Digest, offset);
                    await SkipAsync(body, offset, ct).ConfigureAwait(false);
                }
                return new ResponseStream(response, body);
            }
            catch
            {
                response.Dispose();
                throw;
            }
        }

        private ImageServiceException Truncated(string problem) =>
            new(ImageErrorKind.DataLoss,
                $"{what}: registry {target.Host} (repository {target.Repository}) {problem}, but the descriptor declares {blob.Size} bytes");

        private static async Task SkipAsync(Stream body, long count, CancellationToken ct)
        {
            byte[] scratch = ArrayPool<byte>.Shared.Rent(81920);
            try
            {
                while (count > 0)
                {
                    int read = await body.ReadAsync(scratch.AsMemory(0, (int)Math.Min(scratch.Length, count)), ct).ConfigureAwait(false);
                    if (read == 0)
                    {
                        throw new IOException($"blob body ended while skipping to byte offset (had {count} bytes left to skip)");
                    }
                    count -= read;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(scratch);
            }
        }
    }

    /// <summary>Bearer tokens cached for this client's registries.</summary>
    internal int CachedTokenCount => _transport.CachedTokenCount;

    public void Dispose() => _transport.Dispose();
}
