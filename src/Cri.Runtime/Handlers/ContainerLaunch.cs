namespace Crisp.Runtime.Handlers;

/// <summary>What conmon needs to create one container.</summary>
/// <param name="BundlePath">Directory holding config.json (written by the caller) and the rootfs reference.</param>
/// <param name="LogPath">The CRI log file conmon writes (k8s-file format).</param>
/// <param name="ExitDir">Directory where conmon writes &lt;id&gt; with the exit code when the container exits.</param>
/// <param name="PersistDir">Per-container directory (pid files, ctl fifo, attach socket, oom marker) that survives crispd restarts.</param>
public sealed record ContainerLaunch(
    string ContainerId,
    string BundlePath,
    string LogPath,
    bool Tty,
    bool Stdin,
    bool StdinOnce,
    string ExitDir,
    string PersistDir)
{
    /// <summary>Container name passed to conmon (-n); the id when not given.</summary>
    public string? Name { get; init; }
    /// <summary>Maximum log file size conmon lets the log reach (bytes); null or &lt;= 0 means unlimited.</summary>
    public long? LogSizeMax { get; init; }
}
