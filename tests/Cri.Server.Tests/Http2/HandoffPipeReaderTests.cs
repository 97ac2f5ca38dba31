using System.Buffers;
using System.IO.Pipelines;
using Crisp.Server.Hosting.Http2;
using Xunit;

namespace Crisp.Server.Tests.Http2;

public sealed class HandoffPipeReaderTests
{
    private readonly Pipe _rewritten = new();
    private readonly Pipe _socket = new();

    private static async Task<byte[]> ReadAllAvailableAsync(PipeReader reader)
    {
        var result = await reader.ReadAsync();
        var bytes = result.Buffer.ToArray();
        reader.AdvanceTo(result.Buffer.End);
        return bytes;
    }

    [Fact]
    public async Task After_a_handoff_the_rewritten_bytes_come_first_then_the_socket_with_no_end_in_between()
    {
        var handedOff = false;
        var reader = new HandoffPipeReader(_rewritten.Reader, _socket.Reader, () => handedOff);
        await _rewritten.Writer.WriteAsync(new byte[] { 1, 2, 3 });
        await _socket.Writer.WriteAsync(new byte[] { 4, 5 });
        handedOff = true;
        await _rewritten.Writer.CompleteAsync();

        var first = await reader.ReadAsync();
        Assert.Equal(new byte[] { 1, 2, 3 }, first.Buffer.ToArray());
        Assert.False(first.IsCompleted);
        reader.AdvanceTo(first.Buffer.End);

        var second = await reader.ReadAsync();
        Assert.Equal(new byte[] { 4, 5 }, second.Buffer.ToArray());
        Assert.False(second.IsCompleted);
        reader.AdvanceTo(second.Buffer.End);

        await _socket.Writer.WriteAsync(new byte[] { 6 });
        Assert.Equal(new byte[] { 6 }, await ReadAllAvailableAsync(reader));
        await _socket.Writer.CompleteAsync();
        Assert.True((await reader.ReadAsync()).IsCompleted);
    }

    [Fact]
    public async Task Without_a_handoff_the_end_of_the_rewritten_pipe_ends_the_connection()
    {
        var reader = new HandoffPipeReader(_rewritten.Reader, _socket.Reader, () => false);
        await _rewritten.Writer.WriteAsync(new byte[] { 1 });
        await _rewritten.Writer.CompleteAsync();
        await _socket.Writer.WriteAsync(new byte[] { 9 });

        var result = await reader.ReadAsync();

        Assert.True(result.IsCompleted);
        Assert.Equal(new byte[] { 1 }, result.Buffer.ToArray());
    }

    [Fact]
    public async Task A_failed_rewrite_reaches_the_reader_as_its_error()
    {
        var reader = new HandoffPipeReader(_rewritten.Reader, _socket.Reader, () => false);
        await _rewritten.Writer.CompleteAsync(new InvalidDataException("bad header block"));

        await Assert.ThrowsAsync<InvalidDataException>(async () => await reader.ReadAsync());
    }

    [Fact]
    public async Task Completing_after_the_handoff_leaves_the_socket_to_its_connection()
    {
        var reader = new HandoffPipeReader(_rewritten.Reader, _socket.Reader, () => true);
        await _rewritten.Writer.CompleteAsync();
        await _socket.Writer.WriteAsync(new byte[] { 7 });
        Assert.Equal(new byte[] { 7 }, await ReadAllAvailableAsync(reader));

        reader.Complete();

        await _socket.Writer.WriteAsync(new byte[] { 8 });
        Assert.Equal(new byte[] { 8 }, await ReadAllAvailableAsync(_socket.Reader));
    }
}
