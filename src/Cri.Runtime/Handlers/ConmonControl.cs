using Crisp.Interop;
using Crisp.Runtime.Api;

namespace Crisp.Runtime.Handlers;

/// <summary>Messages to a running conmon over its control fifo ("&lt;type&gt; &lt;height&gt; &lt;width&gt;\n").</summary>
internal static class ConmonControl
{
    private const int ReopenLogsEvent = 2;
    private static readonly TimeSpan ReopenWait = TimeSpan.FromSeconds(5);

    /// <summary>Sends "reopen logs"; with a log path, waits until conmon has created the file again.</summary>
    public static async Task ReopenLogAsync(string bundlePath, string containerId, string? logPath, CancellationToken ct)
    {
        var fifo = ConmonFiles.ControlFifo(bundlePath);
        using (var handle = Libc.TryOpenFifoForWrite(fifo)
            ?? throw new RuntimeException(RuntimeErrorKind.FailedPrecondition, $"conmon of container {containerId} is not running (no reader on {fifo})"))
        {
            await using var stream = new FileStream(handle, FileAccess.Write, bufferSize: 0);
            await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes($"{ReopenLogsEvent} 0 0\n"), ct).ConfigureAwait(false);
        }
        if (string.IsNullOrEmpty(logPath)) return;

        // conmon handles the message on its own loop; the kubelet's rotation expects the file right after we return.
        var deadline = DateTime.UtcNow + ReopenWait;
        while (!File.Exists(logPath))
        {
            if (DateTime.UtcNow > deadline)
                throw new RuntimeException(RuntimeErrorKind.Internal, $"conmon of container {containerId} did not reopen {logPath} within {ReopenWait.TotalSeconds:0}s");
            await Task.Delay(5, ct).ConfigureAwait(false);
        }
    }
}
