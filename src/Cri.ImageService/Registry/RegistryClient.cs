using Crisp.ImageService.Api;
using Crisp.ImageService.Manifests;
using Crisp.ImageService.References;
using Microsoft.Extensions.Logging;

namespace Crisp.ImageService.Registry;

/// <summary>Talks the OCI distribution API to registries: resolves manifests and opens blobs.</summary>
public sealed class RegistryClient
{
    private readonly RegistryConfiguration _configuration;
    private readonly ILogger<RegistryClient> _logger;

    public RegistryClient(RegistryConfiguration configuration, ILogger<RegistryClient> logger)
    {
        _configuration = configuration;
        _logger = logger;
    }

    public RegistryConfiguration Configuration => _configuration;

    public Task<ResolvedManifest> ResolveAsync(ImageReference reference, Platform platform, RegistryCredentials? credentials, CancellationToken ct)
    {
        _ = _logger;
        throw new ImageServiceException(ImageErrorKind.Internal, "registry client is being written (API skeleton commit)");
    }

    public Task<Stream> OpenBlobAsync(ResolvedManifest source, Descriptor blob, CancellationToken ct) =>
        throw new ImageServiceException(ImageErrorKind.Internal, "registry client is being written (API skeleton commit)");
}
