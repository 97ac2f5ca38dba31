using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Crisp.Interop;

/// <summary>
/// Starting a child without .NET's Process: posix_spawn with file actions (so a child gets fds beyond 0-2, which
/// Process cannot give), pipes, and waiting for the child. See <see cref="ChildSpawner"/> for the umask.
/// </summary>
public static partial class Libc
{
    private const int PosixSpawnSetSigDef = 0x04;
    private const int PosixSpawnSetSigMask = 0x08;
    private const int CloneFs = 0x200;
    private const int PidTypePid = 1;
    private const int WaitExited = 4;
    private const int WaitNoWait = 0x01000000;
    private const int ECHILD = 10;

    // glibc's posix_spawnattr_t is 336 bytes, posix_spawn_file_actions_t 80 and sigset_t 128 on x86_64 and aarch64;
    // the buffers are larger so a layout change cannot write past them.
    private const int SpawnAttrBytes = 1024;
    private const int FileActionsBytes = 512;
    private const int SigSetBytes = 256;
    private const int SigInfoBytes = 256;

    [LibraryImport(LibName, EntryPoint = "posix_spawn")]
    private static partial int PosixSpawnRaw(out int pid, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, IntPtr fileActions, IntPtr attr, IntPtr argv, IntPtr envp);

    [LibraryImport(LibName, EntryPoint = "posix_spawnattr_init")]
    private static partial int SpawnAttrInitRaw(IntPtr attr);

    [LibraryImport(LibName, EntryPoint = "posix_spawnattr_destroy")]
    private static partial int SpawnAttrDestroyRaw(IntPtr attr);

    [LibraryImport(LibName, EntryPoint = "posix_spawnattr_setflags")]
    private static partial int SpawnAttrSetFlagsRaw(IntPtr attr, short flags);

    [LibraryImport(LibName, EntryPoint = "posix_spawnattr_setsigmask")]
    private static partial int SpawnAttrSetSigMaskRaw(IntPtr attr, IntPtr sigset);

    [LibraryImport(LibName, EntryPoint = "posix_spawnattr_setsigdefault")]
    private static partial int SpawnAttrSetSigDefaultRaw(IntPtr attr, IntPtr sigset);

    [LibraryImport(LibName, EntryPoint = "posix_spawn_file_actions_init")]
    private static partial int FileActionsInitRaw(IntPtr actions);

    [LibraryImport(LibName, EntryPoint = "posix_spawn_file_actions_destroy")]
    private static partial int FileActionsDestroyRaw(IntPtr actions);

    [LibraryImport(LibName, EntryPoint = "posix_spawn_file_actions_addopen", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int FileActionsAddOpenRaw(IntPtr actions, int fd, string path, int flags, uint mode);

    [LibraryImport(LibName, EntryPoint = "posix_spawn_file_actions_adddup2")]
    private static partial int FileActionsAddDup2Raw(IntPtr actions, int fd, int newFd);

    [LibraryImport(LibName, EntryPoint = "sigemptyset")]
    private static partial int SigEmptySetRaw(IntPtr set);

    [LibraryImport(LibName, EntryPoint = "pipe2", SetLastError = true)]
    private static unsafe partial int Pipe2Raw(int* fds, int flags);

    [LibraryImport(LibName, EntryPoint = "waitid", SetLastError = true)]
    private static partial int WaitIdRaw(int idType, int id, IntPtr info, int options);

    [LibraryImport(LibName, EntryPoint = "waitpid", SetLastError = true)]
    private static partial int WaitPidRaw(int pid, out int status, int options);

    [LibraryImport(LibName, EntryPoint = "unshare", SetLastError = true)]
    private static partial int UnshareFsRaw(int flags);

    [LibraryImport(LibName, EntryPoint = "ioctl", SetLastError = true)]
    private static partial int IoctlIntRaw(SafeHandle fd, ulong request, out int value);

    /// <summary>FIONREAD, the same number on x86_64 and aarch64 (asm-generic).</summary>
    private const ulong Fionread = 0x541B;

    /// <summary>
    /// How many bytes are waiting unread in a pipe (ioctl FIONREAD): what a child wrote before it exited is there even
    /// when the reader has not been scheduled yet.
    /// </summary>
    public static int PipeBytesPending(SafeHandle readEnd)
    {
        if (IoctlIntRaw(readEnd, Fionread, out var pending) != 0) throw SyscallException.FromLastError("ioctl(FIONREAD)");
        return pending;
    }

    /// <summary>
    /// A pipe whose two ends are close-on-exec: a child gets an end only through an explicit dup2. Pipe handles, so
    /// an AnonymousPipeClientStream reads them asynchronously (epoll), as Process's own stdout does.
    /// </summary>
    public static unsafe (SafePipeHandle Read, SafePipeHandle Write) Pipe()
    {
        var fds = stackalloc int[2];
        if (Pipe2Raw(fds, O_CLOEXEC) != 0) throw SyscallException.FromLastError("pipe2");
        return (new SafePipeHandle((IntPtr)fds[0], ownsHandle: true), new SafePipeHandle((IntPtr)fds[1], ownsHandle: true));
    }

    /// <summary>
    /// Gives the calling thread its own umask, cwd and root (unshare CLONE_FS), then sets that umask: children it
    /// spawns inherit it while every other thread keeps the process's. Permanent for the thread.
    /// </summary>
    internal static void UseThreadOwnUmask(uint mask)
    {
        if (UnshareFsRaw(CloneFs) != 0) throw SyscallException.FromLastError("unshare", "CLONE_FS");
        SetUmask(mask);
    }

    /// <summary>
    /// posix_spawn of <paramref name="path"/> with every signal at its default disposition and none blocked (crispd
    /// ignores SIGPIPE; a child must not inherit that). The child inherits the calling thread's umask.
    /// </summary>
    internal static int Spawn(string path, IReadOnlyList<string> argv, IReadOnlyList<string> environment, IReadOnlyList<ChildFd> fds)
    {
        var attr = Marshal.AllocHGlobal(SpawnAttrBytes);
        var actions = Marshal.AllocHGlobal(FileActionsBytes);
        var sigset = Marshal.AllocHGlobal(SigSetBytes);
        var argvBlock = NullTerminatedStrings(argv);
        var envBlock = NullTerminatedStrings(environment);
        var attrReady = false;
        var actionsReady = false;
        try
        {
            Check(SpawnAttrInitRaw(attr), "posix_spawnattr_init", path);
            attrReady = true;
            Check(FileActionsInitRaw(actions), "posix_spawn_file_actions_init", path);
            actionsReady = true;
            Check(SpawnAttrSetFlagsRaw(attr, PosixSpawnSetSigDef | PosixSpawnSetSigMask), "posix_spawnattr_setflags", path);
            // Every bit, not sigfillset: that leaves out glibc's internal signals (32, 33), which posix_spawn then sets
            // to SIG_IGN in the child, and an ignored signal stays ignored through exec into conmon and the container.
            for (var i = 0; i < SigSetBytes; i++) Marshal.WriteByte(sigset, i, 0xFF);
            Check(SpawnAttrSetSigDefaultRaw(attr, sigset), "posix_spawnattr_setsigdefault", path);
            SigEmptySetRaw(sigset);
            Check(SpawnAttrSetSigMaskRaw(attr, sigset), "posix_spawnattr_setsigmask", path);
            foreach (var fd in fds)
            {
                switch (fd)
                {
                    case ChildFd.OpenPath open:
                        Check(FileActionsAddOpenRaw(actions, open.Fd, open.Path, open.Flags, open.Mode), "posix_spawn_file_actions_addopen", open.Path);
                        break;
                    case ChildFd.Duplicate dup:
                        Check(FileActionsAddDup2Raw(actions, (int)dup.Source.DangerousGetHandle(), dup.Fd), "posix_spawn_file_actions_adddup2", $"fd {dup.Fd}");
                        break;
                }
            }
            // posix_spawn returns the error (ENOENT, EACCES, ...) of the child's open or exec rather than setting errno.
            var error = PosixSpawnRaw(out var pid, path, actions, attr, argvBlock.Pointers, envBlock.Pointers);
            if (error != 0) throw new SyscallException("posix_spawn", error, path);
            return pid;
        }
        finally
        {
            if (actionsReady) FileActionsDestroyRaw(actions);
            if (attrReady) SpawnAttrDestroyRaw(attr);
            Marshal.FreeHGlobal(actions);
            Marshal.FreeHGlobal(attr);
            Marshal.FreeHGlobal(sigset);
            argvBlock.Free();
            envBlock.Free();
        }
    }

    /// <summary>Blocks until the child has exited, without reaping it (its pid stays its own until <see cref="Reap"/>).</summary>
    /// <returns>False when the child is not ours to wait for (ECHILD: someone else reaped it).</returns>
    internal static bool WaitUntilExited(int pid)
    {
        var info = Marshal.AllocHGlobal(SigInfoBytes);
        try
        {
            while (true)
            {
                if (WaitIdRaw(PidTypePid, pid, info, WaitExited | WaitNoWait) == 0) return true;
                var errno = Marshal.GetLastPInvokeError();
                if (errno == Errno.EINTR) continue;
                if (errno == ECHILD) return false;
                throw new SyscallException("waitid", errno, $"pid {pid}");
            }
        }
        finally
        {
            Marshal.FreeHGlobal(info);
        }
    }

    /// <summary>Reaps an exited child: its exit code, or 128 + the signal that ended it; null when it was not ours (ECHILD).</summary>
    internal static int? Reap(int pid)
    {
        while (true)
        {
            if (WaitPidRaw(pid, out var status, 0) == pid)
                return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f);
            var errno = Marshal.GetLastPInvokeError();
            if (errno == Errno.EINTR) continue;
            if (errno == ECHILD) return null;
            throw new SyscallException("waitpid", errno, $"pid {pid}");
        }
    }

    private static void Check(int error, string call, string subject)
    {
        if (error != 0) throw new SyscallException(call, error, subject);
    }

    private static NativeStrings NullTerminatedStrings(IReadOnlyList<string> values)
    {
        var pointers = Marshal.AllocHGlobal(IntPtr.Size * (values.Count + 1));
        for (var i = 0; i < values.Count; i++) Marshal.WriteIntPtr(pointers, i * IntPtr.Size, Marshal.StringToCoTaskMemUTF8(values[i]));
        Marshal.WriteIntPtr(pointers, values.Count * IntPtr.Size, IntPtr.Zero);
        return new NativeStrings(pointers, values.Count);
    }

    private readonly record struct NativeStrings(IntPtr Pointers, int Count)
    {
        public void Free()
        {
            for (var i = 0; i < Count; i++) Marshal.FreeCoTaskMem(Marshal.ReadIntPtr(Pointers, i * IntPtr.Size));
            Marshal.FreeHGlobal(Pointers);
        }
    }
}
