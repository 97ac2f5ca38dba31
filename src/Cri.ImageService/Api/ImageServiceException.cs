namespace Crisp.ImageService.Api;

/// <summary>What went wrong, in terms the daemon maps onto a gRPC status once.</summary>
public enum ImageErrorKind
{
    InvalidArgument,
    NotFound,
    Unauthenticated,
    PermissionDenied,
    FailedPrecondition,
    DeadlineExceeded,
    Unavailable,
    DataLoss,
    ResourceExhausted,
    Internal,
}

/// <summary>An image-service failure whose message already names the image, registry or blob involved.</summary>
public class ImageServiceException : Exception
{
    public ImageErrorKind Kind { get; }

    public ImageServiceException(ImageErrorKind kind, string message, Exception? inner = null)
        : base(message, inner) => Kind = kind;
}
