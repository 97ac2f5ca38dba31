using Crisp.ImageService.Api;

namespace Crisp.ImageService.Registry;

/// <summary>The registry failures callers see, worded once so messages stay consistent.</summary>
internal static class RegistryErrors
{
    public static ImageServiceException Refused(RequestTarget target, CredentialMaterial credentials) =>
        credentials.IsAnonymous
            ? new(ImageErrorKind.Unauthenticated, $"registry {target.Host} refused anonymous access to repository {target.Repository} (credentials required)")
            : new(ImageErrorKind.Unauthenticated, $"registry {target.Host} refused credentials for repository {target.Repository}");

    public static ImageServiceException Forbidden(RequestTarget target) =>
        new(ImageErrorKind.PermissionDenied, $"registry {target.Host} denied access to repository {target.Repository}");
}
