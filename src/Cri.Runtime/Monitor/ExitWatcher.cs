using System.Collections.Concurrent;
using Crisp.Interop;
using Crisp.Runtime.Handlers;
using Microsoft.Extensions.Logging;

namespace Crisp.Runtime.Monitor;

/// <summary>
/// Turns the exit files conmon writes into <see cref="ContainerExited"/> events. inotify (FileSystemWatcher) gives
/// low latency; a periodic scan backs it up because inotify can overflow or miss files written while the watcher
/// was being set up. Each exit file is reported once per watcher; exits from before <see cref="Start"/> are reported
/// by the first scan, which is how exits that happened while crispd was down reach the lifecycle code.
/// </summary>
public sealed partial class ExitWatcher : IDisposable
{
    private static readonly TimeSpan DefaultScanInterval = TimeSpan.FromSeconds(2);

    private readonly string _exitDir;
    private readonly Func<string, string?> _persistDirOf;
    private readonly ILogger _logger;
    private readonly TimeSpan _scanInterval;
    private readonly ConcurrentDictionary<string, DateTime> _reported = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private FileSystemWatcher? _watcher;
    private Task? _scanLoop;

    /// <param name="exitDir">conmon's --exit-dir.</param>
    /// <param name="persistDirOf">Maps a container id to its conmon persist dir (to find the oom marker); may return null.</param>
    public ExitWatcher(string exitDir, ILogger<ExitWatcher> logger, Func<string, string?>? persistDirOf = null, TimeSpan? scanInterval = null)
    {
        _exitDir = exitDir;
        _logger = logger;
        _persistDirOf = persistDirOf ?? (_ => null);
        _scanInterval = scanInterval ?? DefaultScanInterval;
    }

    public string ExitDir => _exitDir;

    public event EventHandler<ContainerExitedEventArgs>? ContainerExited;

    public void Start()
    {
        if (_watcher is not null) return;
        OwnedDirectory.Ensure(_exitDir);
        _watcher = new FileSystemWatcher(_exitDir)
        {
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size,
            IncludeSubdirectories = false,
            InternalBufferSize = 64 * 1024,
        };
        _watcher.Created += (_, e) => OnFileEvent(e.Name);
        _watcher.Changed += (_, e) => OnFileEvent(e.Name);
        _watcher.Renamed += (_, e) => OnFileEvent(e.Name);
        _watcher.Error += (_, e) => { LogWatcherError(_logger, e.GetException()); Scan(); };
        _watcher.EnableRaisingEvents = true;
        _scanLoop = Task.Run(ScanLoopAsync);
    }

    /// <summary>The exit conmon recorded for a container in this watcher's exit dir, or null.</summary>
    public ContainerExit? ReadExit(string containerId) => ExitFile.TryRead(_exitDir, containerId);

    /// <summary>The exit conmon recorded in <paramref name="exitDir"/>, or null.</summary>
    public ContainerExit? ReadExit(string exitDir, string containerId) => ExitFile.TryRead(exitDir, containerId);

    /// <summary>Deletes a consumed exit file so the id can never be reported again (ids are not reused, but scans are cheaper).</summary>
    public void Forget(string containerId)
    {
        try { File.Delete(Path.Combine(_exitDir, containerId)); }
        catch (IOException) { }
        _reported.TryRemove(containerId, out _);
    }

    private async Task ScanLoopAsync()
    {
        using var timer = new PeriodicTimer(_scanInterval);
        Scan();
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false)) Scan();
        }
        catch (OperationCanceledException) { }
    }

    private void Scan()
    {
        try
        {
            foreach (var path in Directory.EnumerateFiles(_exitDir)) OnFileEvent(Path.GetFileName(path));
        }
        catch (IOException e) { LogScanFailed(_logger, _exitDir, e); }
    }

    private void OnFileEvent(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.StartsWith('.')) return;
        var exit = ExitFile.TryRead(_exitDir, name);
        // conmon may create the file before writing the code; the Changed event or the next scan catches up.
        if (exit is null) return;
        if (!_reported.TryAdd(name, exit.ExitedAt.UtcDateTime)) return;

        var persistDir = _persistDirOf(name);
        var oom = persistDir is not null && ConmonFiles.OomMarkerExists(persistDir);
        LogExit(_logger, name, exit.ExitCode, oom);
        try
        {
            ContainerExited?.Invoke(this, new ContainerExitedEventArgs(name, exit.ExitCode, exit.ExitedAt, oom));
        }
        catch (Exception e)
        {
            LogHandlerFailed(_logger, name, e);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _watcher?.Dispose();
        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Container {ContainerId} exited with {ExitCode} (oom marker: {Oom})")]
    private static partial void LogExit(ILogger logger, string containerId, int exitCode, bool oom);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Exit watcher lost events; rescanning")]
    private static partial void LogWatcherError(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Scanning exit dir {ExitDir} failed")]
    private static partial void LogScanFailed(ILogger logger, string exitDir, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Exit handler for container {ContainerId} failed")]
    private static partial void LogHandlerFailed(ILogger logger, string containerId, Exception exception);
}
