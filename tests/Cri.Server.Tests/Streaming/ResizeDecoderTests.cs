using Crisp.TestSupport.Logging;
using System.Text;
using System.Threading.Channels;
using Crisp.Runtime.Streaming;
using Crisp.Server.Limits;
using Crisp.Server.Streaming;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Crisp.Server.Tests.Streaming;

public sealed class ResizeDecoderTests
{
    private static async Task<List<TerminalSize>> DecodeAsync(params string[] chunks)
    {
        var sizes = Channel.CreateUnbounded<TerminalSize>();
        var bytes = Encoding.UTF8.GetBytes(string.Concat(chunks));
        await ResizeDecoder.PumpAsync(new MemoryStream(bytes), sizes.Writer, NullLogger.Instance,
            () => throw new Xunit.Sdk.XunitException("no limit was broken"), CancellationToken.None);
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

    [Theory]
    [InlineData("{\"Width\":\"")]   // an unterminated string
    [InlineData("{\"Width\":")]      // whitespace forever
    public async Task An_adversarial_1_MiB_message_is_refused_after_a_few_KiB(string prefix)
    {
        var filler = prefix.EndsWith('"') ? (byte)'a' : (byte)' ';
        var bytes = Encoding.UTF8.GetBytes(prefix).Concat(Enumerable.Repeat(filler, 1024 * 1024)).ToArray();
        var source = new MemoryStream(bytes);
        var logger = new RecordingLogger();
        var dropped = false;
        var sizes = ResizeDecoder.CreateSizeChannel();
        await ResizeDecoder.PumpAsync(source, sizes.Writer, logger, () => { dropped = true; return ValueTask.CompletedTask; }, CancellationToken.None);

        Assert.True(dropped);
        Assert.True(logger.Logged(nameof(ClientLimits.ResizeMaxMessageBytes)));
        // Refused as soon as the message passed the limit: the rest of the megabyte was never read or parsed.
        Assert.InRange(source.Position, ClientLimits.ResizeMaxMessageBytes, ClientLimits.ResizeMaxMessageBytes + 2048);
        Assert.True(sizes.Reader.Completion.IsCompleted);
    }

    [Fact]
    public async Task Many_sizes_queue_no_further_than_the_bound_and_the_latest_survives()
    {
        var messages = string.Concat(Enumerable.Range(1, 1000).Select(i => $$"""{"Width":{{i}},"Height":24}"""));
        var sizes = ResizeDecoder.CreateSizeChannel();
        await ResizeDecoder.PumpAsync(new MemoryStream(Encoding.UTF8.GetBytes(messages)), sizes.Writer, NullLogger.Instance,
            () => throw new Xunit.Sdk.XunitException("no limit was broken"), CancellationToken.None);
        var queued = new List<TerminalSize>();
        await foreach (var size in sizes.Reader.ReadAllAsync()) queued.Add(size);
        Assert.Equal(ClientLimits.ResizeMaxQueuedSizes, queued.Count);
        Assert.Equal(new TerminalSize(1000, 24), queued[^1]);
    }
}
