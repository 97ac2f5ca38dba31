using Crisp.Interop;
using Crisp.Runtime.Api;

namespace Crisp.Runtime.Handlers;

/// <summary>Messages to a running conmon over its control fifo ("&lt;type&gt; &lt;height&gt; &lt;width&gt;\n").</summary>
internal static class ConmonControl
{
    private const int ReopenLogsEvent = 2;

    public static async Task ReopenLogAsync(string bundlePath, string containerId, CancellationToken ct)
    {
        var fifo = ConmonFiles.ControlFifo(bundlePath);
        using var handle = Libc.TryOpenFifoForWrite(fifo)
            ?? throw new RuntimeException(RuntimeErrorKind.FailedPrecondition, $"conmon of container {containerId} is not running (no reader on {fifo})");
        await using var stream = new FileStream(handle, FileAccess.Write, bufferSize: 0);
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes($"{ReopenLogsEvent} 0 0\n"), ct).ConfigureAwait(false);
    }
}
