namespace Crisp.Runtime.Handlers;

public enum RuntimeStatus
{
    Unknown,
    Creating,
    Created,
    Running,
    Paused,
    Stopped,
}

/// <summary>The OCI runtime's view of a container (`runc state` output).</summary>
public sealed record RuntimeState(string Id, RuntimeStatus Status, int Pid, string? Bundle, DateTimeOffset? Created)
{
    public static RuntimeStatus ParseStatus(string? status) => status switch
    {
        "creating" => RuntimeStatus.Creating,
        "created" => RuntimeStatus.Created,
        "running" => RuntimeStatus.Running,
        "paused" => RuntimeStatus.Paused,
        "stopped" => RuntimeStatus.Stopped,
        _ => RuntimeStatus.Unknown,
    };
}
