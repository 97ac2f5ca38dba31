using System.Net.WebSockets;
using System.Text;

namespace Crisp.E2E.Streaming;

/// <summary>
/// A Kubernetes channel-protocol client over .NET's own ClientWebSocket: an independent client for crisp's
/// streaming server (its SPDY side is exercised by crictl/critest, which use Go's client-go).
/// </summary>
public sealed class ChannelClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly Dictionary<byte, MemoryStream> _received = new();
    private Task? _receiving;
    private readonly List<string> _trace = [];

    /// <summary>What arrived, in order (channel and length per message, then how the socket ended): for failure messages.</summary>
    public string Trace { get { lock (_received) return string.Join(", ", _trace); } }

    private ChannelClient(ClientWebSocket socket) => _socket = socket;

    public string? Protocol => _socket.SubProtocol;

    public static async Task<ChannelClient> ConnectAsync(string url, string protocol, string query = "")
    {
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol(protocol);
        var uri = new Uri(url.Replace("http://", "ws://", StringComparison.Ordinal) + query);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await socket.ConnectAsync(uri, timeout.Token);
        var client = new ChannelClient(socket);
        client._receiving = client.ReceiveLoopAsync();
        return client;
    }

    public Task SendAsync(byte channel, string text) => SendAsync(channel, Encoding.UTF8.GetBytes(text));

    public async Task SendAsync(byte channel, byte[] data)
    {
        var message = new byte[data.Length + 1];
        message[0] = channel;
        data.CopyTo(message, 1);
        await _socket.SendAsync(message, WebSocketMessageType.Binary, true, CancellationToken.None);
    }

    /// <summary>v5: tell the server this channel (stdin) is done.</summary>
    public Task CloseChannelAsync(byte channel) => SendRawAsync([255, channel]);

    private Task SendRawAsync(byte[] message) =>
        _socket.SendAsync(message, WebSocketMessageType.Binary, true, CancellationToken.None);

    /// <summary>Everything received on a channel so far (without the channel byte).</summary>
    public string Text(byte channel)
    {
        lock (_received) return _received.TryGetValue(channel, out var s) ? Encoding.UTF8.GetString(s.ToArray()) : "";
    }

    public byte[] Bytes(byte channel)
    {
        lock (_received) return _received.TryGetValue(channel, out var s) ? s.ToArray() : [];
    }

    /// <summary>Waits until the server closes the socket (the session ended).</summary>
    public async Task WaitForCloseAsync(TimeSpan timeout) => await _receiving!.WaitAsync(timeout);

    public async Task WaitForTextAsync(byte channel, string expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Text(channel).Contains(expected, StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline || _receiving!.IsCompleted)
                throw new TimeoutException($"channel {channel} never showed \"{expected}\"; it has \"{Text(channel)}\"");
            await Task.Delay(20);
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[64 * 1024];
        var message = new MemoryStream();
        try
        {
            while (true)
            {
                var result = await _socket.ReceiveAsync(buffer, CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    lock (_received) _trace.Add($"close {_socket.CloseStatus} {_socket.CloseStatusDescription}");
                    break;
                }
                message.Write(buffer, 0, result.Count);
                if (!result.EndOfMessage) continue;
                var bytes = message.ToArray();
                message.SetLength(0);
                if (bytes.Length == 0) continue;
                lock (_received)
                {
                    _trace.Add($"ch{bytes[0]}:{bytes.Length - 1}");
                    if (!_received.TryGetValue(bytes[0], out var channel)) _received[bytes[0]] = channel = new MemoryStream();
                    channel.Write(bytes, 1, bytes.Length - 1);
                }
            }
        }
        catch (WebSocketException e)
        {
            lock (_received) _trace.Add($"error {e.WebSocketErrorCode} {e.Message}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open)
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        }
        catch (WebSocketException) { }
        _socket.Dispose();
    }
}
