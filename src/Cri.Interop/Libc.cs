using System.Runtime.InteropServices;

namespace Crisp.Interop;

/// <summary>
/// The single doorway from crisp to libc. Raw imports are private; the public wrappers throw
/// <see cref="SyscallException"/> with the call, errno and subject decoded. Other concerns
/// (mounts, files, namespaces) add their calls in partial files named Libc.&lt;Concern&gt;.cs.
/// </summary>
public static partial class Libc
{
    private const string LibName = "libc";

    [LibraryImport(LibName, EntryPoint = "geteuid")]
    private static partial uint GetEffectiveUidRaw();

    [LibraryImport(LibName, EntryPoint = "getegid")]
    private static partial uint GetEffectiveGidRaw();

    [LibraryImport(LibName, EntryPoint = "kill", SetLastError = true)]
    private static partial int KillRaw(int pid, int signal);

    [LibraryImport(LibName, EntryPoint = "chmod", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int ChmodRaw(string path, uint mode);

    public static uint GetEffectiveUid() => GetEffectiveUidRaw();

    public static uint GetEffectiveGid() => GetEffectiveGidRaw();

    /// <summary>Sends a signal; returns false when the process no longer exists (ESRCH).</summary>
    public static bool Kill(int pid, int signal)
    {
        if (KillRaw(pid, signal) == 0) return true;
        var errno = Marshal.GetLastPInvokeError();
        if (errno == Errno.ESRCH) return false;
        throw new SyscallException("kill", errno, $"pid {pid}, signal {signal}");
    }

    /// <summary>True when a process with this pid exists (signal 0 probe).</summary>
    public static bool ProcessExists(int pid)
    {
        if (KillRaw(pid, 0) == 0) return true;
        return Marshal.GetLastPInvokeError() == Errno.EPERM;
    }

    public static void Chmod(string path, uint mode)
    {
        if (ChmodRaw(path, mode) != 0) throw SyscallException.FromLastError("chmod", path);
    }
}
