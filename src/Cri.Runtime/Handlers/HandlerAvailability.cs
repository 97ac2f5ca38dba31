namespace Crisp.Runtime.Handlers;

/// <summary>Whether a runtime handler can run containers on this host, and the optional features it has.</summary>
public sealed record HandlerAvailability(
    bool Ready,
    string? Reason,
    bool SupportsRecursiveReadOnlyMounts,
    bool SupportsUserNamespaces)
{
    public static HandlerAvailability NotReady(string reason) => new(false, reason, false, false);
}
