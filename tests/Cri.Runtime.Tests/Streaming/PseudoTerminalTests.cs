using System.Text;
using Crisp.Interop;
using Xunit;

namespace Crisp.Runtime.Tests.Streaming;

public sealed class PseudoTerminalTests
{
    [Fact]
    public void Opens_a_pty_whose_slave_exists_and_carries_bytes_to_the_master()
    {
        var (master, slavePath) = Libc.OpenPseudoTerminal();
        using (master)
        {
            Assert.StartsWith("/dev/pts/", slavePath, StringComparison.Ordinal);
            using var slave = Libc.Open(slavePath, Libc.O_RDWR | 0x100 /* O_NOCTTY */);
            using var toMaster = new FileStream(slave, FileAccess.Write, bufferSize: 0);
            toMaster.Write("hi\n"u8);
            using var fromSlave = new FileStream(master, FileAccess.Read, bufferSize: 0);
            var buffer = new byte[64];
            var read = fromSlave.Read(buffer);
            // The line discipline turns \n into \r\n on output.
            Assert.Equal("hi\r\n", Encoding.ASCII.GetString(buffer, 0, read));
        }
    }

    [Fact]
    public void Resizing_the_master_is_seen_on_the_slave()
    {
        var (master, slavePath) = Libc.OpenPseudoTerminal();
        using (master)
        using (var slave = Libc.Open(slavePath, Libc.O_RDWR | 0x100 /* O_NOCTTY */))
        {
            Libc.SetWindowSize(master, rows: 42, columns: 132);
            Assert.Equal(((ushort)42, (ushort)132), Libc.GetWindowSize(slave));
            Libc.SetWindowSize(master, rows: 5, columns: 7);
            Assert.Equal(((ushort)5, (ushort)7), Libc.GetWindowSize(slave));
        }
    }

    [Fact]
    public void Window_size_on_something_that_is_not_a_terminal_names_the_call()
    {
        using var notATerminal = Libc.Open("/dev/null", Libc.O_RDWR);
        var e = Assert.Throws<SyscallException>(() => Libc.SetWindowSize(notATerminal, 10, 10));
        Assert.Equal("ioctl(TIOCSWINSZ)", e.Syscall);
    }
}
