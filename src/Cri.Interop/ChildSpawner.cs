using System.Collections.Concurrent;

namespace Crisp.Interop;

/// <summary>
/// Starts children with a umask other than crispd's, without a shell and without ever changing crispd's own.
/// The umask belongs to a task's fs_struct, which all threads of a process share: a process-wide umask(0022) around
/// a spawn would let any other thread create a file 0644 meanwhile (crispd relies on 0077). So one dedicated thread
/// unshares CLONE_FS once, sets the children's umask on its own copy, and does every spawn; posix_spawn's child
/// starts from that thread's fs_struct, so it gets the umask, while crispd's other threads never see it.
/// </summary>
public sealed class ChildSpawner : IDisposable
{
    private readonly BlockingCollection<(Func<int> Spawn, TaskCompletionSource<int> Done)> _requests = [];
    private readonly Thread _thread;

    public ChildSpawner(uint childUmask, string name)
    {
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _thread = new Thread(() => Run(childUmask, ready)) { IsBackground = true, Name = name };
        _thread.Start();
        // Fails here, at construction, if the kernel refuses the unshare: no child ever starts with crispd's umask by mistake.
        ready.Task.GetAwaiter().GetResult();
    }

    /// <summary>
    /// Spawns <paramref name="path"/> (argv[0] included in <paramref name="argv"/>) with exactly
    /// <paramref name="environment"/> and <paramref name="fds"/> set up; fds 0-2 not named are inherited from crispd.
    /// </summary>
    public async Task<ChildProcess> SpawnAsync(string path, IReadOnlyList<string> argv, IReadOnlyList<string> environment, IReadOnlyList<ChildFd> fds)
    {
        var done = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        _requests.Add((() => Libc.Spawn(path, argv, environment, fds), done));
        return new ChildProcess(await done.Task.ConfigureAwait(false));
    }

    private void Run(uint childUmask, TaskCompletionSource ready)
    {
        try
        {
            Libc.UseThreadOwnUmask(childUmask);
        }
        catch (Exception e)
        {
            ready.SetException(e);
            return;
        }
        ready.SetResult();
        foreach (var (spawn, done) in _requests.GetConsumingEnumerable())
        {
            try { done.SetResult(spawn()); }
            catch (Exception e) { done.SetException(e); }
        }
    }

    public void Dispose() => _requests.CompleteAdding();
}
