using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;

namespace Crisp.E2E.Fixtures;

/// <summary>
/// A plain-HTTP proxy on 127.0.0.1 in front of a <see cref="RegistryFixture"/> that injects faults into chosen
/// requests: error statuses (retries), blob bodies cut by a TCP reset mid-stream (resume with Range), stalled
/// bodies (progress timeouts) and delays. Each fault is armed for a number of matching requests.
/// It works on raw HTTP/1.1 (one request per connection, "Connection: close") so every header the client sent
/// reaches the registry unchanged, repeated Accept headers included, and a cut is a real connection reset.
/// </summary>
public sealed class RegistryProxy : IAsyncDisposable
{
    private const int MaxHeadBytes = 64 * 1024;
    private const byte TlsHandshakeRecord = 0x16;
    private static readonly byte[] HeadTerminator = "\r\n\r\n"u8.ToArray();

    private readonly TcpListener _listener;
    private readonly RegistryFixture _registry;
    private readonly ConcurrentQueue<ProxiedRequest> _requests = new();
    private readonly ConcurrentQueue<ArmedFault> _faults = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<Task, byte> _connections = new();
    private readonly Task _acceptLoop;
    private long _delayTicks;

    private RegistryProxy(TcpListener listener, RegistryFixture registry)
    {
        _listener = listener;
        _registry = registry;
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    public int Port { get; }

    /// <summary>"127.0.0.1:PORT" of the proxy (plain HTTP, even in front of a TLS registry).</summary>
    public string Host => $"127.0.0.1:{Port}";

    public string Reference(string repository, string tag = "latest") => $"{Host}/{repository}:{tag}";

    /// <summary>Every request handled so far, in completion order.</summary>
    public IReadOnlyList<ProxiedRequest> Requests => _requests.ToArray();

    /// <summary>
    /// Waits until a handled request matches: a request is recorded once its connection is done, which can be just
    /// after the client already has its answer.
    /// </summary>
    public async Task<ProxiedRequest> WaitForRequestAsync(Func<ProxiedRequest, bool> match, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var found = _requests.FirstOrDefault(match);
            if (found is not null) return found;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"no matching request within {timeout}; seen: {string.Join(", ", _requests)}");
            await Task.Delay(20);
        }
    }

    /// <summary>Added before forwarding each request (a slow registry).</summary>
    public TimeSpan Delay
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _delayTicks));
        set => Interlocked.Exchange(ref _delayTicks, value.Ticks);
    }

    public static Task<RegistryProxy> StartAsync(RegistryFixture registry)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return Task.FromResult(new RegistryProxy(listener, registry));
    }

    /// <summary>The next <paramref name="count"/> requests matching <paramref name="match"/> (any by default) are answered <paramref name="status"/> by the proxy.</summary>
    public void FailNext(int count, HttpStatusCode status = HttpStatusCode.ServiceUnavailable, Func<ProxyRequestLine, bool>? match = null) =>
        Arm(new ArmedFault(RegistryFault.ErrorStatus, count, match ?? (_ => true)) { Status = status });

    /// <summary>The next <paramref name="count"/> blob downloads (of <paramref name="digest"/>, or any) are reset after <paramref name="afterBytes"/> body bytes.</summary>
    public void CutNextBlobDownloads(int count, long afterBytes, string? digest = null) =>
        Arm(new ArmedFault(RegistryFault.CutBody, count, r => r.IsBlobDownload(digest)) { AfterBytes = afterBytes });

    /// <summary>The next <paramref name="count"/> blob downloads send <paramref name="afterBytes"/> body bytes, then nothing, until the client hangs up.</summary>
    public void StallNextBlobDownloads(int count, long afterBytes, string? digest = null) =>
        Arm(new ArmedFault(RegistryFault.StallBody, count, r => r.IsBlobDownload(digest)) { AfterBytes = afterBytes });

    /// <summary>Disarms pending faults and the delay.</summary>
    public void ClearFaults()
    {
        while (_faults.TryDequeue(out _))
        {
        }

        Delay = TimeSpan.Zero;
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        _stopping.Cancel();
        _listener.Stop();
        await _acceptLoop;
        try
        {
            await Task.WhenAll(_connections.Keys).WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
            // A connection stuck in the kernel must not hang teardown; its sockets are closed by now anyway.
        }

        _stopping.Dispose();
    }

    private void Arm(ArmedFault fault)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(fault.Remaining, "count");
        _faults.Enqueue(fault);
    }

    private ArmedFault? TakeFault(ProxyRequestLine request) =>
        _faults.FirstOrDefault(f => f.Match(request) && f.TryConsume());

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            var connection = Task.Run(() => HandleAsync(client));
            _connections.TryAdd(connection, 0);
            _ = connection.ContinueWith(t => _connections.TryRemove(t, out _), TaskScheduler.Default);
        }
    }

    private async Task HandleAsync(Socket client)
    {
        var token = _stopping.Token;
        ProxyRequestLine? line = null;
        ArmedFault? fault = null;
        var status = 0;
        long sent = 0;
        Socket? upstreamSocket = null;
        Stream? upstream = null;
        using var clientStream = new NetworkStream(client, ownsSocket: true);
        try
        {
            var (requestHead, requestRest) = await ReadHeadAsync(clientStream, token);
            if (requestHead is null)
            {
                return;
            }

            var (requestLines, parsed) = ParseRequest(requestHead);
            line = parsed;
            fault = TakeFault(line);
            if (Delay > TimeSpan.Zero)
            {
                await Task.Delay(Delay, token);
            }

            if (fault?.Kind == RegistryFault.ErrorStatus)
            {
                status = (int)fault.Status;
                var answer = $"HTTP/1.1 {status} Injected By Crisp Test Proxy\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}";
                await clientStream.WriteAsync(Encoding.ASCII.GetBytes(answer), token);
                return;
            }

            (upstreamSocket, upstream) = await ConnectUpstreamAsync(token);
            await upstream.WriteAsync(Encoding.ASCII.GetBytes(string.Join("\r\n", requestLines) + "\r\n\r\n"), token);
            await upstream.WriteAsync(requestRest, token);
            await upstream.FlushAsync(token);
            // Request bodies (uploads) keep flowing while the response comes back.
            var upload = PumpAsync(clientStream, upstream, token);

            var (responseHead, responseRest) = await ReadHeadAsync(upstream, token);
            if (responseHead is null)
            {
                return;
            }

            status = ParseStatus(responseHead);
            await clientStream.WriteAsync(responseHead, token);
            var limit = fault?.Kind is RegistryFault.CutBody or RegistryFault.StallBody ? fault.AfterBytes : long.MaxValue;
            sent = await ForwardBodyAsync(responseRest, upstream, clientStream, limit, token);
            if (sent >= limit && fault?.Kind == RegistryFault.StallBody)
            {
                await clientStream.FlushAsync(token);
                await WaitForHangUpAsync(clientStream, token);
            }
            else if (sent >= limit && fault?.Kind == RegistryFault.CutBody)
            {
                // Linger 0 turns close into a TCP RST: the client sees a reset mid-body, not a clean end.
                client.LingerState = new LingerOption(true, 0);
            }
            else
            {
                client.Shutdown(SocketShutdown.Send);
            }

            _ = upload;
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException or AuthenticationException)
        {
            // Client hung up, the registry went away, or the proxy is stopping: the connection just ends.
        }
        finally
        {
            upstream?.Dispose();
            upstreamSocket?.Dispose();
            if (line is not null)
            {
                _requests.Enqueue(new ProxiedRequest(line.Method, line.Path, line.Range, status, sent, fault?.Kind ?? RegistryFault.None));
            }
        }
    }

    private async Task<(Socket, Stream)> ConnectUpstreamAsync(CancellationToken token)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(IPAddress.Loopback, _registry.Port, token);
            Stream stream = new NetworkStream(socket, ownsSocket: false);
            if (_registry.UsesTls)
            {
                var tls = new SslStream(stream, leaveInnerStreamOpen: false, (_, certificate, _, _) => _registry.ValidatesCertificate(certificate));
                await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "127.0.0.1" }, token);
                stream = tls;
            }

            return (socket, stream);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static (List<string> Lines, ProxyRequestLine Line) ParseRequest(byte[] head)
    {
        var lines = Encoding.ASCII.GetString(head, 0, head.Length - HeadTerminator.Length).Split("\r\n").ToList();
        var parts = lines[0].Split(' ');
        if (parts.Length != 3)
        {
            throw new IOException($"malformed request line '{lines[0]}'");
        }

        string? range = null;
        var forwarded = new List<string> { lines[0] };
        foreach (var header in lines.Skip(1))
        {
            var name = header.Split(':', 2)[0].Trim();
            if (name.Equals("Range", StringComparison.OrdinalIgnoreCase))
            {
                range = header.Split(':', 2)[1].Trim();
            }

            // One request per connection keeps response framing trivial: the body ends when the registry closes.
            if (!name.Equals("Connection", StringComparison.OrdinalIgnoreCase) && !name.Equals("Keep-Alive", StringComparison.OrdinalIgnoreCase))
            {
                forwarded.Add(header);
            }
        }

        forwarded.Add("Connection: close");
        var path = parts[1].Split('?', 2)[0];
        return (forwarded, new ProxyRequestLine(parts[0], path, range));
    }

    private static int ParseStatus(byte[] head)
    {
        var statusLine = Encoding.ASCII.GetString(head, 0, Math.Min(head.Length, 64)).Split("\r\n")[0].Split(' ');
        return statusLine.Length > 1 && int.TryParse(statusLine[1], out var status) ? status : 0;
    }

    /// <summary>Reads up to and including the blank line; returns the head and whatever body bytes came with it.</summary>
    private static async Task<(byte[]? Head, byte[] Remainder)> ReadHeadAsync(Stream stream, CancellationToken token)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[8192];
        while (buffer.Length < MaxHeadBytes)
        {
            var read = await stream.ReadAsync(chunk, token);
            if (read == 0)
            {
                return (null, []);
            }

            if (buffer.Length == 0 && chunk[0] == TlsHandshakeRecord)
            {
                // A client probing for HTTPS first (skopeo with tls-verify=false does): hang up at once so it
                // falls back to plain HTTP instead of waiting out its TLS handshake timeout.
                return (null, []);
            }

            buffer.Write(chunk, 0, read);
            var bytes = buffer.GetBuffer().AsSpan(0, (int)buffer.Length);
            var end = bytes.IndexOf(HeadTerminator);
            if (end >= 0)
            {
                var headLength = end + HeadTerminator.Length;
                return (bytes[..headLength].ToArray(), bytes[headLength..].ToArray());
            }
        }

        throw new IOException($"HTTP head longer than {MaxHeadBytes} bytes");
    }

    private static async Task<long> ForwardBodyAsync(byte[] alreadyRead, Stream from, Stream to, long limit, CancellationToken token)
    {
        long sent = 0;
        var first = (int)Math.Min(alreadyRead.Length, limit);
        await to.WriteAsync(alreadyRead.AsMemory(0, first), token);
        sent += first;
        var buffer = new byte[81920];
        while (sent < limit)
        {
            var read = await from.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, limit - sent)), token);
            if (read == 0)
            {
                break;
            }

            await to.WriteAsync(buffer.AsMemory(0, read), token);
            sent += read;
        }

        return sent;
    }

    private static async Task PumpAsync(Stream from, Stream to, CancellationToken token)
    {
        try
        {
            await from.CopyToAsync(to, token);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // Either side closing ends the upload direction; the response side decides what happens next.
        }
    }

    private static async Task WaitForHangUpAsync(Stream client, CancellationToken token)
    {
        var sink = new byte[1];
        while (await client.ReadAsync(sink, token) > 0)
        {
        }
    }

    private sealed class ArmedFault(RegistryFault kind, int count, Func<ProxyRequestLine, bool> match)
    {
        private int _remaining = count;

        public RegistryFault Kind { get; } = kind;

        public Func<ProxyRequestLine, bool> Match { get; } = match;

        public HttpStatusCode Status { get; init; }

        public long AfterBytes { get; init; }

        public int Remaining => Volatile.Read(ref _remaining);

        public bool TryConsume()
        {
            while (true)
            {
                var current = Volatile.Read(ref _remaining);
                if (current <= 0)
                {
                    return false;
                }

                if (Interlocked.CompareExchange(ref _remaining, current - 1, current) == current)
                {
                    return true;
                }
            }
        }
    }
}
