namespace Crisp.Interop;

/// <summary>
/// A child started by <see cref="ChildSpawner"/>. Its exit is awaited on a thread of its own (waitid blocks) without
/// reaping it first, so <see cref="Kill"/> never signals a pid that was reaped and reused meanwhile.
/// </summary>
public sealed class ChildProcess
{
    private readonly Lock _reaping = new();
    private bool _reaped;

    internal ChildProcess(int pid)
    {
        Pid = pid;
        Exited = Task.Factory.StartNew(WaitAndReap, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    public int Pid { get; }

    /// <summary>
    /// Completes when the child has exited: its exit code (128 + signal when killed), or null when something else
    /// reaped it first (a parent that ignores SIGCHLD makes the kernel do so), so that its exit code is unknown.
    /// </summary>
    public Task<int?> Exited { get; }

    /// <summary>Sends SIGKILL unless the child is already reaped; its pid may then belong to someone else.</summary>
    public void Kill()
    {
        lock (_reaping)
        {
            if (!_reaped) Libc.Kill(Pid, 9);
        }
    }

    private int? WaitAndReap()
    {
        var ours = Libc.WaitUntilExited(Pid);
        lock (_reaping)
        {
            _reaped = true;
            return ours ? Libc.Reap(Pid) : null;
        }
    }
}
