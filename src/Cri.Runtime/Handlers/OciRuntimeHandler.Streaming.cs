using Crisp.Runtime.Api;
using Crisp.Runtime.Streaming;

namespace Crisp.Runtime.Handlers;

public sealed partial class OciRuntimeHandler
{
    public async Task<int> ExecAsync(string containerId, IReadOnlyList<string> command, bool tty, StreamingIo io, CancellationToken ct)
    {
        if (command.Count == 0) throw RuntimeException.InvalidField("cmd", "must not be empty");
        var state = await StateAsync(containerId, ct).ConfigureAwait(false)
            ?? throw new RuntimeException(RuntimeErrorKind.NotFound, $"container {containerId} is not known to {Name}");
        if (state.Status != RuntimeStatus.Running || string.IsNullOrEmpty(state.Bundle))
            throw new RuntimeException(RuntimeErrorKind.FailedPrecondition, $"container {containerId} is not running ({state.Status}); cannot exec in it");
        var processSpec = ConmonExecSync.BuildProcessSpec(state.Bundle, containerId, command, terminal: tty);
        var session = new RuntimeExecSession(BinaryPath, GlobalArgs(), _options.Root.TrimEnd('/') + "-exec", _logger);
        return await session.RunAsync(containerId, processSpec, tty, io, ct).ConfigureAwait(false);
    }
}
