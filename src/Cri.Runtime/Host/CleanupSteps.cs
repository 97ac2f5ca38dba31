using Crisp.Runtime.Api;
using Crisp.Runtime.Rootfs;
using Microsoft.Extensions.Logging;

namespace Crisp.Runtime.Host;

/// <summary>
/// Undoes a sandbox's or container's effects step by step: every step is attempted even when an earlier one
/// failed, each failure is logged with the object and step, and <see cref="ThrowIfFailed"/> reports them together.
/// </summary>
public sealed partial class CleanupSteps(string id, ILogger logger)
{
    private readonly List<string> _failures = [];

    public bool Failed => _failures.Count > 0;

    /// <returns>Whether the step succeeded.</returns>
    public async Task<bool> RunAsync(string what, Func<Task> action)
    {
        try
        {
            await action();
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogStepFailed(logger, ex, id, what);
            _failures.Add($"{what}: {ex.Message}");
            return false;
        }
    }

    /// <summary>Deletes the directories unless something is still mounted below them (image layers, the host).</summary>
    public Task<bool> RemoveDirectoriesAsync(IRuntimeMounts mounts, params string[] directories) =>
        RunAsync("remove directories", () =>
        {
            var stillMounted = mounts.MountsUnder(directories);
            if (stillMounted.Count > 0) throw new IOException($"still mounted: {string.Join(", ", stillMounted)}");
            foreach (var directory in directories)
                if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
            return Task.CompletedTask;
        });

    /// <param name="what">The object, as in "removing pod sandbox &lt;id&gt;".</param>
    public void ThrowIfFailed(string what)
    {
        if (Failed)
            throw new RuntimeException(RuntimeErrorKind.Internal, $"{what} failed (will be retried): {string.Join("; ", _failures)}");
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cleanup of {Id}: {Step} failed")]
    private static partial void LogStepFailed(ILogger logger, Exception exception, string id, string step);
}
