using Crisp.TestSupport.Logging;
using System.Buffers.Binary;
using Crisp.Server.Limits;
using Crisp.Server.Streaming.Spdy;
using Xunit;

namespace Crisp.Server.Tests.Streaming.Spdy;

/// <summary>A client with streaming rights must not grow crispd's memory through one SPDY connection.</summary>
public sealed class SpdyLimitTests
{
    [Fact]
    public async Task One_stream_too_many_drops_the_connection_and_logs_the_limit()
    {
        var logger = new RecordingLogger();
        await using var peer = await SpdyTestPeer.StartAsync(logger: logger);
        for (var i = 0; i <= ClientLimits.SpdyMaxConcurrentStreams; i++)
            await peer.OpenAsync(2 * i + 1, ("streamtype", "data"), ("requestid", i.ToString()));

        var error = await Assert.ThrowsAsync<ClientLimitExceededException>(() => peer.Run.WaitAsync(peer.Token));
        Assert.Equal(nameof(ClientLimits.SpdyMaxConcurrentStreams), error.Limit);
        var goAway = await peer.NextFrameAsync<GoAwayFrame>();
        Assert.Equal(SpdyProtocol.GoAwayProtocolError, goAway.Status);
        Assert.True(logger.Logged(nameof(ClientLimits.SpdyMaxConcurrentStreams)), string.Join("\n", logger.Lines));
    }

    [Fact]
    public async Task Streams_that_finish_make_room_for_new_ones()
    {
        await using var peer = await SpdyTestPeer.StartAsync();
        for (var i = 0; i < 2 * ClientLimits.SpdyMaxConcurrentStreams; i++)
        {
            await peer.OpenAsync(2 * i + 1);
            var stream = await peer.AcceptAsync();
            await stream.ResetAsync(SpdyResetStatus.Cancel, peer.Token);
            Assert.Equal(2 * i + 1, (await peer.NextFrameAsync<RstStreamFrame>()).StreamId);
        }
        Assert.False(peer.Run.IsCompleted);
    }

    [Fact]
    public async Task A_stream_nobody_reads_buffers_no_more_than_its_cap()
    {
        const int limit = 64 * 1024, frame = 24 * 1024, frames = 20;
        await using var peer = await SpdyTestPeer.StartAsync(inboundLimit: limit);
        await peer.OpenAsync(1);
        var stream = await peer.AcceptAsync();
        var payload = new byte[frame];
        var sending = Task.Run(async () =>
        {
            for (var i = 0; i < frames; i++) await peer.Client.WriteDataAsync(1, payload, fin: i == frames - 1, peer.Token);
        });

        while (stream.Inbound.Buffered < limit - frame) await Task.Delay(10, peer.Token);
        await Task.Delay(300, peer.Token); // give an over-eager read loop time to queue one more frame
        Assert.InRange(stream.Inbound.Buffered, 0, limit);

        // Back-pressure, not loss: once read, every byte arrives.
        var total = 0;
        var buffer = new byte[8192];
        int read;
        while ((read = await stream.Data.ReadAsync(buffer, peer.Token)) > 0)
        {
            total += read;
            Assert.InRange(stream.Inbound.Buffered, 0, limit);
        }
        await sending;
        Assert.Equal(frame * frames, total);
    }

    [Fact]
    public async Task A_data_frame_larger_than_a_stream_may_buffer_drops_the_connection_from_its_header()
    {
        var logger = new RecordingLogger();
        await using var peer = await SpdyTestPeer.StartAsync(logger: logger);
        await peer.OpenAsync(1);
        await peer.AcceptAsync();
        // Only the 8-byte header of a 16 MiB DATA frame: it must be refused, not waited for and buffered.
        var header = new byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(header, 1);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), 0xFFFFFF);
        await peer.WriteRawAsync(header);

        var error = await Assert.ThrowsAsync<ClientLimitExceededException>(() => peer.Run.WaitAsync(peer.Token));
        Assert.Equal(nameof(ClientLimits.SpdyMaxDataFrameBytes), error.Limit);
        Assert.True(logger.Logged(nameof(ClientLimits.SpdyMaxDataFrameBytes)));
    }
}
