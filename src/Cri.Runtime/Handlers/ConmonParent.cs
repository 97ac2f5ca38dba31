using System.IO.Pipes;
using Microsoft.Win32.SafeHandles;
using Crisp.Interop;

namespace Crisp.Runtime.Handlers;

/// <summary>
/// conmon's first process as crispd started it, and with `-l passthrough` the read ends of the pipes that are its
/// (and the exec'd process's) stdout and stderr.
/// </summary>
internal sealed class ConmonParent(ChildProcess process, Stream? stdout, Stream? stderr) : IDisposable
{
    public ChildProcess Process => process;

    public Stream StandardOutput => stdout ?? throw new InvalidOperationException("conmon was started without output pipes");

    public Stream StandardError => stderr ?? throw new InvalidOperationException("conmon was started without output pipes");

    internal static Stream ReadEnd(SafePipeHandle handle) => new AnonymousPipeClientStream(PipeDirection.In, handle);

    /// <summary>True while either output pipe holds bytes nobody has read yet.</summary>
    public bool OutputPending() => Pending(stdout) || Pending(stderr);

    private static bool Pending(Stream? pipe)
    {
        try
        {
            return pipe is PipeStream { SafePipeHandle: { IsClosed: false } handle } && Libc.PipeBytesPending(handle) > 0;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        stdout?.Dispose();
        stderr?.Dispose();
    }
}
