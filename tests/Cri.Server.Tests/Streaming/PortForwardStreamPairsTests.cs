using Crisp.TestSupport.Logging;
using Crisp.Server.Limits;
using Crisp.Server.Streaming;
using Crisp.Server.Streaming.Spdy;
using Crisp.Server.Tests.Streaming.Spdy;
using Xunit;

namespace Crisp.Server.Tests.Streaming;

public sealed class PortForwardStreamPairsTests
{
    private static readonly Dictionary<string, string> NoHeaders = new();

    private static async Task<SpdyStream> OpenRepliedAsync(SpdyTestPeer peer, int id)
    {
        await peer.OpenAsync(id);
        var stream = await peer.AcceptAsync();
        await stream.ReplyAsync(NoHeaders, fin: false, peer.Token);
        Assert.Equal(id, (await peer.NextFrameAsync<SynReplyFrame>()).StreamId);
        return stream;
    }

    [Fact]
    public async Task Data_and_error_of_one_request_pair_up()
    {
        await using var peer = await SpdyTestPeer.StartAsync();
        using var pairs = new PortForwardStreamPairs(new RecordingLogger(), TimeSpan.FromSeconds(30), maxPending: 4);
        var error = await OpenRepliedAsync(peer, 1);
        var data = await OpenRepliedAsync(peer, 3);

        Assert.Null(await pairs.AddAsync(error, isData: false, "7", peer.Token));
        Assert.Equal(1, pairs.PendingCount);
        var pair = await pairs.AddAsync(data, isData: true, "7", peer.Token);
        Assert.Equal((data, error), pair);
        Assert.Equal(0, pairs.PendingCount);
    }

    [Fact]
    public async Task A_half_that_waits_past_the_timeout_is_given_up()
    {
        await using var peer = await SpdyTestPeer.StartAsync();
        using var pairs = new PortForwardStreamPairs(new RecordingLogger(), TimeSpan.FromMilliseconds(200), maxPending: 4);
        var data = await OpenRepliedAsync(peer, 1);

        Assert.Null(await pairs.AddAsync(data, isData: true, "lonely", peer.Token));
        var reset = await peer.NextFrameAsync<RstStreamFrame>();
        Assert.Equal((1, SpdyRemoteCommandTransport.RefusedStream), (reset.StreamId, reset.Status));
        Assert.Equal(0, pairs.PendingCount);
    }

    [Fact]
    public async Task Too_many_waiting_halves_break_the_limit_and_are_logged()
    {
        var logger = new RecordingLogger();
        await using var peer = await SpdyTestPeer.StartAsync();
        using var pairs = new PortForwardStreamPairs(logger, TimeSpan.FromSeconds(30), maxPending: 2);
        for (var i = 0; i < 2; i++)
            Assert.Null(await pairs.AddAsync(await OpenRepliedAsync(peer, 2 * i + 1), isData: true, $"r{i}", peer.Token));

        var third = await OpenRepliedAsync(peer, 5);
        var error = await Assert.ThrowsAsync<ClientLimitExceededException>(() => pairs.AddAsync(third, isData: true, "r2", peer.Token));
        Assert.Equal(nameof(ClientLimits.PortForwardMaxPendingPairs), error.Limit);
        Assert.True(logger.Logged(nameof(ClientLimits.PortForwardMaxPendingPairs)));
        Assert.Equal(2, pairs.PendingCount);
    }
}
