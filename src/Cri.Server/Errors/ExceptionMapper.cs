using Crisp.ImageService.Api;
using Crisp.Runtime.Api;
using Grpc.Core;

namespace Crisp.Server.Errors;

/// <summary>The one place library failures become gRPC statuses.</summary>
public static class ExceptionMapper
{
    public static RpcException ToRpcException(Exception exception, string method, CancellationToken callCancelled) => exception switch
    {
        // The generated base class answers unimplemented RPCs with an empty detail; name the RPC instead.
        RpcException { StatusCode: StatusCode.Unimplemented } e when string.IsNullOrEmpty(e.Status.Detail) =>
            new RpcException(new Status(StatusCode.Unimplemented, $"{method} is not implemented by crisp")),
        RpcException e => e,
        RuntimeException e => new RpcException(new Status(Map(e.Kind), e.Message)),
        ImageServiceException e => new RpcException(new Status(Map(e.Kind), e.Message)),
        OperationCanceledException when callCancelled.IsCancellationRequested =>
            new RpcException(new Status(StatusCode.Cancelled, $"{method} cancelled by the client")),
        _ => new RpcException(new Status(StatusCode.Internal, $"{method}: {exception.Message}")),
    };

    private static StatusCode Map(RuntimeErrorKind kind) => kind switch
    {
        RuntimeErrorKind.InvalidArgument => StatusCode.InvalidArgument,
        RuntimeErrorKind.NotFound => StatusCode.NotFound,
        RuntimeErrorKind.AlreadyExists => StatusCode.AlreadyExists,
        RuntimeErrorKind.FailedPrecondition => StatusCode.FailedPrecondition,
        RuntimeErrorKind.Unimplemented => StatusCode.Unimplemented,
        RuntimeErrorKind.DeadlineExceeded => StatusCode.DeadlineExceeded,
        RuntimeErrorKind.ResourceExhausted => StatusCode.ResourceExhausted,
        RuntimeErrorKind.Unavailable => StatusCode.Unavailable,
        _ => StatusCode.Internal,
    };

    private static StatusCode Map(ImageErrorKind kind) => kind switch
    {
        ImageErrorKind.InvalidArgument => StatusCode.InvalidArgument,
        ImageErrorKind.NotFound => StatusCode.NotFound,
        ImageErrorKind.Unauthenticated => StatusCode.Unauthenticated,
        ImageErrorKind.PermissionDenied => StatusCode.PermissionDenied,
        ImageErrorKind.FailedPrecondition => StatusCode.FailedPrecondition,
        ImageErrorKind.DeadlineExceeded => StatusCode.DeadlineExceeded,
        ImageErrorKind.Unavailable => StatusCode.Unavailable,
        ImageErrorKind.DataLoss => StatusCode.DataLoss,
        ImageErrorKind.ResourceExhausted => StatusCode.ResourceExhausted,
        _ => StatusCode.Internal,
    };
}
