using System.Text;
using Microsoft.Extensions.Logging;

namespace Crisp.Runtime.Network;

/// <summary>
/// The conf dir's current network, re-read whenever the directory changes, so a config that an operator or a
/// CNI daemonset drops in later is picked up without a restart. Change detection compares a stamp of the
/// candidate files (name, size, mtime) on each use instead of an inotify watch: a handful of stats per Status
/// call is cheap, and it cannot miss events (inotify drops them on overflow and must be re-armed when the
/// directory itself is created or replaced, which is how many installers write configs).
/// </summary>
public sealed partial class CniConfigSource(string confDir, ILogger<CniConfigSource> logger)
{
    private readonly Lock _lock = new();
    private string? _stamp;
    private CniConfigState? _state;

    public string ConfDir => confDir;

    public CniConfigState Current
    {
        get
        {
            var stamp = Stamp();
            lock (_lock)
            {
                return _state is not null && stamp == _stamp ? _state : ProbeLocked(stamp);
            }
        }
    }

    /// <summary>
    /// Probes the directory whatever its stamp says (SIGHUP): a rewrite that kept a file's size and mtime, as a
    /// copy preserving times does, is invisible to the stamp until the operator asks for it.
    /// </summary>
    public CniConfigState Reread()
    {
        var stamp = Stamp();
        lock (_lock) return ProbeLocked(stamp);
    }

    private CniConfigState ProbeLocked(string stamp)
    {
        var previous = _state;
        _state = CniConfigProbe.Probe(confDir);
        _stamp = stamp;
        Report(previous, _state);
        return _state;
    }

    private string Stamp()
    {
        var sb = new StringBuilder();
        try
        {
            // Distinct from an empty directory's stamp, so the "does not exist" message goes once the directory appears.
            if (!Directory.Exists(confDir)) return "\0missing";
            foreach (var file in CniConfigProbe.CandidateFiles(confDir))
                StampFile(sb, file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The directory changed under us (an installer replacing it): a stamp that differs makes the next use re-read.
            sb.Append("\0unreadable ").Append(e.Message).Append(Environment.TickCount64);
        }
        return sb.ToString();
    }

    private static void StampFile(StringBuilder sb, string file)
    {
        try
        {
            var info = new FileInfo(file);
            // Kubernetes ConfigMap volumes (and many installers) swap a symlink's target; stamp what it points to.
            if (info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is FileInfo target)
            {
                sb.Append(target.FullName).Append('|');
                info = target;
            }
            sb.Append(info.Name).Append('|').Append(info.Exists ? info.Length : -1).Append('|')
              .Append(info.Exists ? info.LastWriteTimeUtc.Ticks : 0).Append('\n');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A symlink loop or a file removed meanwhile: the probe reports it as skipped; the stamp only needs to differ.
            sb.Append(file).Append("|unreadable|").Append(e.Message).Append('\n');
        }
    }

    private void Report(CniConfigState? previous, CniConfigState current)
    {
        foreach (var skipped in current.SkippedFiles.Except(previous?.SkippedFiles ?? []))
            LogSkipped(logger, skipped);
        if (current.Ready)
        {
            if (previous?.ConfigFile != current.ConfigFile || previous?.NetworkName != current.NetworkName || previous?.Ready != true)
                LogUsing(logger, current.NetworkName!, current.ConfigFile!, string.Join(",", current.Config!.PluginTypes));
        }
        else if (previous is null || previous.Ready || previous.Message != current.Message)
        {
            LogNotReady(logger, current.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "CNI network {Network} from {File} (plugins {Plugins}) is in use for new pods")]
    private static partial void LogUsing(ILogger logger, string network, string file, string plugins);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipping CNI config {Reason}")]
    private static partial void LogSkipped(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pod network not ready: {Message}")]
    private static partial void LogNotReady(ILogger logger, string message);
}
