using System.Text;
using System.Threading.Channels;
using Crisp.Runtime.Streaming;
using Crisp.Server.Streaming;
using Xunit;

namespace Crisp.Server.Tests.Streaming;

public sealed class ResizeDecoderTests
{
    private static async Task<List<TerminalSize>> DecodeAsync(params string[] chunks)
    {
        var sizes = Channel.CreateUnbounded<TerminalSize>();
        var bytes = Encoding.UTF8.GetBytes(string.Concat(chunks));
        await ResizeDecoder.PumpAsync(new MemoryStream(bytes), sizes.Writer, CancellationToken.None);
        var result = new List<TerminalSize>();
        await foreach (var size in sizes.Reader.ReadAllAsync()) result.Add(size);
        return result;
    }

    [Fact]
    public async Task Objects_written_back_to_back_are_each_a_size()
    {
        var sizes = await DecodeAsync("""{"Width":80,"Height":24}{"Width":120,"Height":40}""");
        Assert.Equal([new TerminalSize(80, 24), new TerminalSize(120, 40)], sizes);
    }

    [Fact]
    public async Task A_bad_size_is_skipped_and_later_ones_still_arrive()
    {
        var sizes = await DecodeAsync("""{"Width":-1,"Height":24}{"Width":"wide","Height":1}{"Width":100,"Height":30}""");
        Assert.Equal([new TerminalSize(100, 30)], sizes);
    }

    [Fact]
    public void An_object_split_across_reads_waits_for_its_end()
    {
        var sizes = Channel.CreateUnbounded<TerminalSize>();
        var half = Encoding.UTF8.GetBytes("""{"Width":90,""");
        Assert.Equal(0, ResizeDecoder.DecodeAll(half, sizes.Writer));
        var whole = Encoding.UTF8.GetBytes("""{"Width":90,"Height":20}""");
        Assert.Equal(whole.Length, ResizeDecoder.DecodeAll(whole, sizes.Writer));
        Assert.True(sizes.Reader.TryRead(out var size));
        Assert.Equal(new TerminalSize(90, 20), size);
    }
}
