using System.Runtime.InteropServices;

namespace Crisp.Interop;

/// <summary>A failed libc call, carrying the call name, the decoded errno and what it was applied to.</summary>
public sealed class SyscallException : IOException
{
    public string Syscall { get; }
    public int Errno { get; }
    public string? Subject { get; }

    public SyscallException(string syscall, int errno, string? subject)
        : base(Format(syscall, errno, subject), errno) =>
        (Syscall, Errno, Subject) = (syscall, errno, subject);

    /// <summary>Builds the exception from the errno the last LibraryImport call (SetLastError=true) saved.</summary>
    public static SyscallException FromLastError(string syscall, string? subject = null) =>
        new(syscall, Marshal.GetLastPInvokeError(), subject);

    private static string Format(string syscall, int errno, string? subject)
    {
        var name = Marshal.GetPInvokeErrorMessage(errno);
        return subject is null
            ? $"{syscall}: {name} (errno {errno})"
            : $"{syscall}({subject}): {name} (errno {errno})";
    }
}
