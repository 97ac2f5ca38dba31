namespace Crisp.Interop;

/// <summary>The errno values crisp branches on (x86_64/aarch64 Linux share these).</summary>
public static class Errno
{
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int ESRCH = 3;
    public const int EINTR = 4;
    public const int EIO = 5;
    public const int EAGAIN = 11;
    public const int EACCES = 13;
    public const int EBUSY = 16;
    public const int EEXIST = 17;
    public const int EXDEV = 18;
    public const int ENOTDIR = 20;
    public const int EISDIR = 21;
    public const int EINVAL = 22;
    public const int ENOSPC = 28;
    public const int ESPIPE = 29;
    public const int ECONNREFUSED = 111;
    public const int ENODATA = 61;
    public const int ELOOP = 40;
    public const int ENOTSUP = 95;
}
