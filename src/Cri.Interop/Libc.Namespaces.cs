using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Crisp.Interop;

/// <summary>Joining Linux namespaces from the calling thread (setns), e.g. a pod's network namespace.</summary>
public static partial class Libc
{
    public const int CLONE_NEWNET = 0x40000000;
    public const int O_PATH = 0x200000;
    public const int O_DIRECTORY = 0x10000;

    [LibraryImport(LibName, EntryPoint = "setns", SetLastError = true)]
    private static partial int NamespacesSetNsRaw(int fd, int nstype);

    /// <summary>
    /// Moves the CALLING THREAD into the namespace <paramref name="namespaceFile"/> refers to (an fd of
    /// /proc/…/ns/… or of a bind-mounted pin). Only that OS thread changes: callers use a dedicated thread and
    /// switch it back before it runs anything else.
    /// </summary>
    public static void SetNamespace(SafeFileHandle namespaceFile, int namespaceType, string what)
    {
        var added = false;
        namespaceFile.DangerousAddRef(ref added);
        try
        {
            if (NamespacesSetNsRaw((int)namespaceFile.DangerousGetHandle(), namespaceType) != 0)
                throw SyscallException.FromLastError("setns", what);
        }
        finally
        {
            if (added) namespaceFile.DangerousRelease();
        }
    }
}
