using Xunit;
using System.Net;
using System.Net.Sockets;
using Crisp.Server.Streaming.Spdy;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Crisp.Server.Tests.Streaming.Spdy;

/// <summary>
/// A SpdyConnection on one end of a loopback TCP pair and a hand-driven client (our own frame
/// writer/reader, with their own compression contexts) on the other, as a Go spdystream client would be.
/// </summary>
internal sealed class SpdyTestPeer : IAsyncDisposable
{
    private readonly NetworkStream _clientStream;
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(20));

    public SpdyConnection Server { get; }
    public SpdyFrameWriter Client { get; }
    public SpdyFrameReader ClientReader { get; }
    public Task Run { get; }
    public CancellationToken Token => _timeout.Token;

    private SpdyTestPeer(NetworkStream serverStream, NetworkStream clientStream, int? inboundLimit, ILogger? logger)
    {
        _clientStream = clientStream;
        logger ??= NullLogger.Instance;
        Server = inboundLimit is { } limit
            ? new SpdyConnection(serverStream, logger) { InboundBufferLimit = limit }
            : new SpdyConnection(serverStream, logger);
        Client = new SpdyFrameWriter(clientStream);
        ClientReader = new SpdyFrameReader(clientStream);
        Run = Server.RunAsync(_timeout.Token);
    }

    public static async Task<SpdyTestPeer> StartAsync(int? inboundLimit = null, ILogger? logger = null)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        var server = await listener.AcceptTcpClientAsync();
        client.NoDelay = server.NoDelay = true;
        return new SpdyTestPeer(server.GetStream(), client.GetStream(), inboundLimit, logger);
    }

    public static IReadOnlyCollection<KeyValuePair<string, string>> H(params (string Name, string Value)[] pairs) =>
        pairs.Select(p => new KeyValuePair<string, string>(p.Name, p.Value)).ToList();

    public ValueTask OpenAsync(int id, params (string Name, string Value)[] headers) =>
        Client.WriteSynStreamAsync(id, 0, 0, 0, H(headers), Token);

    public async Task<SpdyStream> AcceptAsync() => await Server.IncomingStreams.ReadAsync(Token);

    public async Task<SpdyFrame> NextFrameAsync() =>
        await ClientReader.ReadAsync(Token) ?? throw new EndOfStreamException("server closed the connection");

    public async Task<T> NextFrameAsync<T>() where T : SpdyFrame
    {
        var frame = await NextFrameAsync();
        if (frame is DataFrame data && typeof(T) != typeof(DataFrame))
            throw new Xunit.Sdk.XunitException($"expected {typeof(T).Name}, got DATA on stream {data.StreamId} ({data.Length} bytes)");
        return Assert.IsType<T>(frame);
    }

    /// <summary>Reads DATA frames for one stream until its FIN; returns the bytes and the frame sizes.</summary>
    public async Task<(byte[] Bytes, List<int> FrameSizes)> ReadToFinAsync(int streamId)
    {
        var bytes = new MemoryStream();
        var sizes = new List<int>();
        while (true)
        {
            var data = await NextFrameAsync<DataFrame>();
            Assert.Equal(streamId, data.StreamId);
            bytes.Write(data.Buffer, 0, data.Length);
            sizes.Add(data.Length);
            if (data.Fin) return (bytes.ToArray(), sizes);
        }
    }

    public ValueTask WriteRawAsync(byte[] bytes) => _clientStream.WriteAsync(bytes, Token);

    public void CloseClient() => _clientStream.Socket.Shutdown(SocketShutdown.Send);

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        try { await Run; } catch (Exception) { /* the test already looked at Run where it mattered */ }
        Client.Dispose();
        ClientReader.Dispose();
        await _clientStream.DisposeAsync();
        _timeout.Dispose();
    }
}
