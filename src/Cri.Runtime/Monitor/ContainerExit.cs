namespace Crisp.Runtime.Monitor;

/// <summary>An exit as conmon recorded it: the exit file's content and its modification time.</summary>
public sealed record ContainerExit(string ContainerId, int ExitCode, DateTimeOffset ExitedAt);

/// <summary>Raised once per exit file the watcher sees.</summary>
public sealed class ContainerExitedEventArgs(string containerId, int exitCode, DateTimeOffset exitedAt, bool oomKilled) : EventArgs
{
    public string ContainerId { get; } = containerId;
    public int ExitCode { get; } = exitCode;
    public DateTimeOffset ExitedAt { get; } = exitedAt;
    /// <summary>True when conmon left its "oom" marker; callers may still consult the cgroup's oom_kill counter.</summary>
    public bool OomKilled { get; } = oomKilled;
}
