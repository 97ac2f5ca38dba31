using System.Runtime.InteropServices;

namespace Crisp.Interop;

/// <summary>What a spawned child finds at one of its fds when it starts.</summary>
public abstract record ChildFd(int Fd)
{
    /// <summary>The child opens <paramref name="Path"/> itself (so a fifo or log is never open in crispd for it).</summary>
    public sealed record OpenPath(int Fd, string Path, int Flags, uint Mode = 0) : ChildFd(Fd);

    /// <summary>A copy of one of crispd's fds (a pipe end); the caller keeps <paramref name="Source"/> open until the spawn returned.</summary>
    public sealed record Duplicate(int Fd, SafeHandle Source) : ChildFd(Fd);
}
