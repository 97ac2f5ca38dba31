using System.IO.Pipes;
using Xunit;

namespace Crisp.Interop.Tests;

public sealed class PipeTests
{
    [Fact]
    public void Bytes_written_and_not_yet_read_are_reported_pending_until_read()
    {
        var (read, write) = Libc.Pipe();
        using var reader = new AnonymousPipeClientStream(PipeDirection.In, read);
        using (var writer = new AnonymousPipeClientStream(PipeDirection.Out, write))
        {
            Assert.Equal(0, Libc.PipeBytesPending(read));
            writer.Write("hello"u8);
        }

        Assert.Equal(5, Libc.PipeBytesPending(read));
        var buffer = new byte[8];
        Assert.Equal(5, reader.Read(buffer));
        Assert.Equal(0, Libc.PipeBytesPending(read));
    }
}
