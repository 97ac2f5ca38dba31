using System.Buffers;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using Crisp.Interop;
using Crisp.Runtime.Api;
using Crisp.Runtime.Handlers;
using Microsoft.Extensions.Logging;

namespace Crisp.Runtime.Streaming;

/// <summary>
/// kubectl attach: a client of the container's conmon. Output arrives on conmon's attach socket (which conmon
/// closes when the container exits), stdin goes back over it, and terminal resizes go through conmon's control
/// fifo, which conmon applies to the container's console.
/// </summary>
internal static partial class ConmonAttachSession
{
    /// <param name="bundlePath">The container's bundle: conmon's attach socket and ctl fifo live there.</param>
    /// <param name="containerStdin">The container was created with stdin (conmon -i); required for <see cref="StreamingIo.Stdin"/>.</param>
    /// <param name="stdinOnce">The container's stdin closes after the first attach client finishes with it.</param>
    public static async Task RunAsync(
        string containerId, string bundlePath, bool tty, bool containerStdin, bool stdinOnce, StreamingIo io, ILogger logger, CancellationToken ct)
    {
        if (io.Stdin is not null && !containerStdin)
            throw new RuntimeException(RuntimeErrorKind.FailedPrecondition, $"container {containerId} was not created with stdin; attach cannot write to it");

        using var socket = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
        await ConnectAsync(socket, containerId, bundlePath, ct).ConfigureAwait(false);
        LogAttached(logger, containerId, tty, io.Stdin is not null);

        using var session = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var output = ReceiveOutputAsync(socket, tty, io, session.Token);
        var resize = tty && io.Resize is not null
            ? ResizeAsync(io.Resize, containerId, bundlePath, logger, session.Token)
            : Task.CompletedTask;
        var stdin = Task.CompletedTask;
        try
        {
            if (io.Stdin is not null)
            {
                stdin = SendStdinAsync(socket, io.Stdin, session.Token);
                if (await Task.WhenAny(output, stdin).ConfigureAwait(false) == stdin)
                {
                    await stdin.ConfigureAwait(false);
                    // A container that keeps stdin open for the next client: this client is done once it stops
                    // typing (CRI-O's behaviour). Otherwise our half close made conmon close the container's stdin,
                    // and its remaining output is still worth waiting for.
                    if (containerStdin && !stdinOnce && !tty) return;
                }
            }
            await output.WaitAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            await session.CancelAsync().ConfigureAwait(false);
            await Quietly(output).ConfigureAwait(false);
            await Quietly(stdin).ConfigureAwait(false);
            await Quietly(resize).ConfigureAwait(false);
        }
        LogDetached(logger, containerId);
    }

    private static async Task ConnectAsync(Socket socket, string containerId, string bundlePath, CancellationToken ct)
    {
        var (address, directory) = ConmonAttachSocket.Address(bundlePath);
        using (directory)
        {
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(address), ct).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                throw new RuntimeException(RuntimeErrorKind.FailedPrecondition,
                    $"cannot attach to container {containerId}: connecting to conmon's attach socket {ConmonAttachSocket.PathIn(bundlePath)} failed: {e.Message}", e);
            }
        }
    }

    /// <summary>Routes conmon's messages by their pipe byte until conmon closes the socket (the container exited).</summary>
    private static async Task ReceiveOutputAsync(Socket socket, bool tty, StreamingIo io, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ConmonAttachSocket.MaxOutputMessage * 4);
        var stdoutBroken = false;
        var stderrBroken = false;
        try
        {
            while (true)
            {
                int read;
                try { read = await socket.ReceiveAsync(buffer.AsMemory(), SocketFlags.None, ct).ConfigureAwait(false); }
                catch (SocketException) { return; }
                if (read == 0) return;
                if (read == 1) continue;
                var data = buffer.AsMemory(1, read - 1);
                // conmon gives a terminal's output as stdout; with a tty the client has no stderr stream anyway.
                var toStderr = buffer[0] == ConmonAttachSocket.StderrPipe && !tty;
                var sink = toStderr ? io.Stderr : io.Stdout;
                if (sink is null || (toStderr ? stderrBroken : stdoutBroken)) continue;
                try
                {
                    await sink.WriteAsync(data, ct).ConfigureAwait(false);
                    await sink.FlushAsync(ct).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or ObjectDisposedException or NotSupportedException)
                {
                    if (toStderr) stderrBroken = true;
                    else stdoutBroken = true;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Sends the client's stdin, one message per read; at its end, half-closes so conmon sees the EOF.</summary>
    private static async Task SendStdinAsync(Socket socket, Stream stdin, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            while (true)
            {
                int read;
                try { read = await stdin.ReadAsync(buffer.AsMemory(0, 16 * 1024), ct).ConfigureAwait(false); }
                catch (IOException) { read = 0; }
                if (read == 0) break;
                await socket.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, ct).ConfigureAwait(false);
            }
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
            // conmon went away (the container exited): the output side reports the end.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task ResizeAsync(ChannelReader<TerminalSize> sizes, string containerId, string bundlePath, ILogger logger, CancellationToken ct)
    {
        var fifo = ConmonFiles.ControlFifo(bundlePath);
        try
        {
            await foreach (var size in sizes.ReadAllAsync(ct).ConfigureAwait(false))
            {
                if (size.Width == 0 || size.Height == 0) continue;
                using var handle = Libc.TryOpenFifoForWrite(fifo);
                if (handle is null)
                {
                    LogResizeFailed(logger, containerId, $"no conmon reading {fifo}");
                    return;
                }
                await using var stream = new FileStream(handle, FileAccess.Write, bufferSize: 0);
                try { await stream.WriteAsync(Encoding.ASCII.GetBytes(ConmonAttachSocket.ResizeMessage(size)), ct).ConfigureAwait(false); }
                catch (IOException e) { LogResizeFailed(logger, containerId, e.Message); }
            }
        }
        catch (OperationCanceledException) { }
    }

    private static async Task Quietly(Task task)
    {
        try { await task.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false); }
        catch (TimeoutException) { }
        catch (OperationCanceledException) { }
        catch (IOException) { }
        catch (SocketException) { }
        catch (ObjectDisposedException) { }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Attached to container {ContainerId} (tty {Tty}, stdin {Stdin})")]
    private static partial void LogAttached(ILogger logger, string containerId, bool tty, bool stdin);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Detached from container {ContainerId}")]
    private static partial void LogDetached(ILogger logger, string containerId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Resizing the terminal of container {ContainerId} failed: {Error}")]
    private static partial void LogResizeFailed(ILogger logger, string containerId, string error);
}
