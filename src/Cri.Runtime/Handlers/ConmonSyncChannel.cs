using System.Text;
using Crisp.Interop;

namespace Crisp.Runtime.Handlers;

/// <summary>
/// The read side of conmon's sync pipe, as a fifo that conmon gets as fd 3. We open it O_RDWR: the writer's open
/// never blocks and reads never hit EOF, so a pending read is released by writing a newline ourselves.
/// conmon writes one JSON line per event (create: the pid; exec: the pid, then the exit code).
/// </summary>
internal sealed class ConmonSyncChannel : IDisposable
{
    private readonly FileStream _stream;
    private readonly List<byte> _pending = new(128);
    private Task<string>? _inFlight;

    public string FifoPath { get; }

    public ConmonSyncChannel(string fifoPath)
    {
        FifoPath = fifoPath;
        File.Delete(fifoPath);
        Libc.MkFifo(fifoPath, 0x180 /* 0600 */);
        var handle = Libc.Open(fifoPath, Libc.O_RDWR);
        _stream = new FileStream(handle, FileAccess.ReadWrite, bufferSize: 0);
    }

    /// <summary>The next line conmon wrote; throws OperationCanceledException when <paramref name="ct"/> fires first.</summary>
    public async Task<string> ReadLineAsync(CancellationToken ct)
    {
        // Reads on a fifo are blocking syscalls: they get their own thread (not a pool thread a busy daemon
        // needs), one runs at a time, and it survives a cancelled wait.
        _inFlight ??= Task.Factory.StartNew(ReadLineBlocking, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        var line = await _inFlight.WaitAsync(ct).ConfigureAwait(false);
        _inFlight = null;
        return line;
    }

    private string ReadLineBlocking()
    {
        var buf = new byte[512];
        while (true)
        {
            var nl = _pending.IndexOf((byte)'\n');
            if (nl >= 0)
            {
                var line = Encoding.UTF8.GetString(_pending.GetRange(0, nl).ToArray());
                _pending.RemoveRange(0, nl + 1);
                return line;
            }
            int n;
            try { n = _stream.Read(buf, 0, buf.Length); }
            catch (IOException) { return ""; }
            catch (ObjectDisposedException) { return ""; }
            if (n <= 0) return "";
            for (var i = 0; i < n; i++) _pending.Add(buf[i]);
        }
    }

    /// <summary>Unblocks a pending read (it returns an empty line).</summary>
    public void Release()
    {
        try { _stream.Write("\n"u8); }
        catch (IOException) { }
        catch (ObjectDisposedException) { }
    }

    public void Dispose()
    {
        if (_inFlight is { IsCompleted: false }) Release();
        _stream.Dispose();
        try { File.Delete(FifoPath); } catch (IOException) { }
    }
}
