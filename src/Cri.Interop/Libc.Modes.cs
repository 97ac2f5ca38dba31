using System.Runtime.InteropServices;

namespace Crisp.Interop;

/// <summary>The process umask and a mkdir that tells "created" from "was already there".</summary>
public static partial class Libc
{
    [LibraryImport(LibName, EntryPoint = "umask")]
    private static partial uint UmaskRaw(uint mask);

    [LibraryImport(LibName, EntryPoint = "mkdir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MkdirRaw(string path, uint mode);

    /// <summary>Sets the process umask (it cannot fail); returns the previous one.</summary>
    public static uint SetUmask(uint mask) => UmaskRaw(mask);

    /// <summary>
    /// mkdir(2) of one directory; false when something already exists at <paramref name="path"/> (EEXIST), so a
    /// caller can keep its hands off what it did not create. The umask still applies to <paramref name="mode"/>.
    /// </summary>
    public static bool MakeDirectory(string path, uint mode)
    {
        if (MkdirRaw(path, mode) == 0) return true;
        var errno = Marshal.GetLastPInvokeError();
        if (errno == Errno.EEXIST) return false;
        throw new SyscallException("mkdir", errno, path);
    }
}
