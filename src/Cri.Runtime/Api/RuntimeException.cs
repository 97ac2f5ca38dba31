namespace Crisp.Runtime.Api;

/// <summary>What went wrong, in terms the daemon maps onto a gRPC status once.</summary>
public enum RuntimeErrorKind
{
    InvalidArgument,
    NotFound,
    AlreadyExists,
    FailedPrecondition,
    Unimplemented,
    DeadlineExceeded,
    ResourceExhausted,
    Unavailable,
    Internal,
}

/// <summary>A runtime failure whose message already names the pod, container, field or command involved.</summary>
public class RuntimeException : Exception
{
    public RuntimeErrorKind Kind { get; }

    public RuntimeException(RuntimeErrorKind kind, string message, Exception? inner = null)
        : base(message, inner) => Kind = kind;

    public static RuntimeException InvalidField(string field, string reason) =>
        new(RuntimeErrorKind.InvalidArgument, $"{field}: {reason}");
}
