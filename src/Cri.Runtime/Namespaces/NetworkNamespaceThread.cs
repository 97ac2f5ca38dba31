using Crisp.Interop;
using Crisp.Runtime.Api;
using Microsoft.Win32.SafeHandles;

namespace Crisp.Runtime.Namespaces;

/// <summary>
/// Runs a short piece of work inside a pod's network namespace. setns changes only the calling OS thread, so the
/// work gets a dedicated thread that joins the namespace, runs it, switches back and ends; nothing else ever runs
/// on that thread. What the work creates there (a socket) or reads (/proc/thread-self/net/*) belongs to the pod's
/// namespace.
/// </summary>
internal static class NetworkNamespaceThread
{
    /// <summary>
    /// Runs <paramref name="work"/> inside the namespace pinned at <paramref name="networkNamespacePath"/>.
    /// <paramref name="purpose"/> starts every error message ("port forward to pod sandbox X"); a namespace file
    /// that is gone is FailedPrecondition.
    /// </summary>
    public static Task<T> RunAsync<T>(string networkNamespacePath, string purpose, Func<T> work)
    {
        var result = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try { result.TrySetResult(RunHere(networkNamespacePath, purpose, work)); }
            catch (Exception e) { result.TrySetException(e); }
        })
        {
            IsBackground = true,
            Name = "crisp-netns",
        };
        thread.Start();
        return result.Task;
    }

    private static T RunHere<T>(string networkNamespacePath, string purpose, Func<T> work)
    {
        using var own = Libc.Open("/proc/thread-self/ns/net", Libc.O_RDONLY);
        using (var target = OpenNamespace(networkNamespacePath, purpose))
        {
            try { Libc.SetNamespace(target, Libc.CLONE_NEWNET, networkNamespacePath); }
            catch (SyscallException e)
            {
                throw new RuntimeException(RuntimeErrorKind.Internal, $"{purpose}: cannot enter its network namespace: {e.Message}", e);
            }
        }
        try
        {
            return work();
        }
        finally
        {
            try
            {
                Libc.SetNamespace(own, Libc.CLONE_NEWNET, "/proc/thread-self/ns/net (back to crispd's)");
            }
            catch (SyscallException)
            {
                // This thread ends right after and takes the foreign namespace with it; nothing else ever runs on
                // it, so only the failure to come back is lost.
            }
        }
    }

    private static SafeFileHandle OpenNamespace(string path, string purpose)
    {
        try { return Libc.Open(path, Libc.O_RDONLY); }
        catch (SyscallException e)
        {
            throw new RuntimeException(e.Errno == Errno.ENOENT ? RuntimeErrorKind.FailedPrecondition : RuntimeErrorKind.Internal,
                $"{purpose}: its network namespace {path} cannot be opened: {e.Message}", e);
        }
    }
}
