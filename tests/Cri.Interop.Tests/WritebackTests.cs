using Xunit;

namespace Crisp.Interop.Tests;

public sealed class WritebackTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("crisp-writeback-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void StartsWritebackOfAFileJustWritten()
    {
        string path = Path.Combine(_directory, "layer-file");
        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
        file.Write(new byte[2 * 1024 * 1024]);
        file.Flush();

        Libc.StartWriteback(file.SafeFileHandle, path);
        Libc.SyncFilesystem(_directory);

        Assert.Equal(2 * 1024 * 1024, new FileInfo(path).Length);
    }

    [Fact]
    public void AFileThatCannotBeWrittenBackNamesTheSyscallAndThePath()
    {
        string path = Path.Combine(_directory, "fifo");
        Libc.MkFifo(path, 0b110_000_000);
        using var fifo = Libc.Open(path, Libc.O_RDWR | Libc.O_CLOEXEC);

        var error = Assert.Throws<SyscallException>(() => Libc.StartWriteback(fifo, path));

        Assert.Equal("sync_file_range", error.Syscall);
        Assert.Equal(Errno.ESPIPE, error.Errno);
        Assert.Equal(path, error.Subject);
    }
}
