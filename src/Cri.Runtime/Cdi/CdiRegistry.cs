using Microsoft.Extensions.Logging;

namespace Crisp.Runtime.Cdi;

/// <summary>
/// The CDI devices the spec directories declare, keyed by fully-qualified name (vendor.com/class=name). The
/// directories are re-read when a stamp of their spec files (name, size, mtime) changes, so a device plugin that
/// writes a spec is seen by the next CreateContainer without a restart. A later directory overrides an earlier
/// one (/var/run/cdi over /etc/cdi); the same device twice in one directory is a conflict and neither is used.
/// A broken file is recorded with its reason and never hides the devices of the good ones.
/// </summary>
public sealed partial class CdiRegistry(IReadOnlyList<string> specDirs, ILogger<CdiRegistry> logger)
{
    /// <summary>Largest spec file read; vendor specs are a few KiB (a GPU node's is below 100 KiB).</summary>
    public const long MaxSpecFileBytes = 4 * 1024 * 1024;
    /// <summary>Most spec files read across all directories; the rest are skipped and reported.</summary>
    public const int MaxSpecFiles = 1024;

    private readonly Lock _gate = new();
    private string? _stamp;
    private Snapshot _current = Snapshot.Empty;

    public IReadOnlyList<string> SpecDirs => specDirs;

    /// <summary>A device and the spec it came from (whose spec-level edits go with it).</summary>
    public sealed record ResolvedDevice(string QualifiedName, string SpecPath, CdiSpecDocument Spec, CdiDeviceDocument Device);

    /// <summary>What the directories hold now: devices by name, and each unusable file with its reason.</summary>
    public sealed record Snapshot(IReadOnlyDictionary<string, ResolvedDevice> Devices, IReadOnlyDictionary<string, string> Errors)
    {
        public static readonly Snapshot Empty = new(new Dictionary<string, ResolvedDevice>(), new Dictionary<string, string>());
    }

    public Snapshot Current()
    {
        var (stamp, files) = Scan();
        lock (_gate)
        {
            if (stamp == _stamp) return _current;
            _current = Load(files);
            _stamp = stamp;
            return _current;
        }
    }

    /// <summary>
    /// The devices for <paramref name="names"/> in request order (duplicates dropped). An unknown name or an unusable
    /// file is a <see cref="CdiResolutionException"/> naming the device and the broken files (one may have declared it).
    /// </summary>
    public IReadOnlyList<ResolvedDevice> Resolve(IEnumerable<string> names)
    {
        var snapshot = Current();
        var resolved = new List<ResolvedDevice>();
        foreach (var name in names.Distinct(StringComparer.Ordinal))
        {
            if (!CdiNames.TryParseQualified(name, out _, out _))
                throw new CdiResolutionException(name, $"CDI device \"{name}\" is not a fully-qualified name (vendor.com/class=name)");
            if (snapshot.Devices.TryGetValue(name, out var device))
            {
                resolved.Add(device);
                continue;
            }
            var broken = snapshot.Errors.Count == 0 ? "" :
                "; unusable CDI spec files: " + string.Join("; ", snapshot.Errors.Select(e => $"{e.Key}: {e.Value}"));
            throw new CdiResolutionException(name,
                $"CDI device \"{name}\" is not declared by any spec in {string.Join(", ", specDirs)}{broken}");
        }
        return resolved;
    }

    /// <summary>Spec files with their stamp, lowest priority first (directory order, then name).</summary>
    private (string Stamp, List<(string Path, int Priority, long Size)> Files) Scan()
    {
        var files = new List<(string, int, long)>();
        var stamp = new System.Text.StringBuilder();
        for (var priority = 0; priority < specDirs.Count; priority++)
        {
            FileInfo[] entries;
            try
            {
                entries = new DirectoryInfo(specDirs[priority]).GetFiles();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue; // an absent directory declares nothing; it is looked at again on the next use
            }
            foreach (var entry in entries.Where(e => CdiSpecParser.IsSpecFileName(e.Name)).OrderBy(e => e.Name, StringComparer.Ordinal))
            {
                files.Add((entry.FullName, priority, entry.Length));
                stamp.Append(entry.FullName).Append('\0').Append(entry.Length).Append('\0').Append(entry.LastWriteTimeUtc.Ticks).Append('\n');
            }
        }
        return (stamp.ToString(), files);
    }

    private Snapshot Load(List<(string Path, int Priority, long Size)> files)
    {
        var devices = new Dictionary<string, (ResolvedDevice Device, int Priority)>(StringComparer.Ordinal);
        var conflicts = new HashSet<string>(StringComparer.Ordinal);
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        if (files.Count > MaxSpecFiles)
        {
            LogLimit(nameof(MaxSpecFiles), MaxSpecFiles, files.Count);
            foreach (var skipped in files.Skip(MaxSpecFiles)) errors[skipped.Path] = $"skipped: more than {nameof(MaxSpecFiles)} ({MaxSpecFiles}) spec files";
        }
        foreach (var (path, priority, size) in files.Take(MaxSpecFiles))
        {
            CdiSpecDocument spec;
            try
            {
                if (size > MaxSpecFileBytes)
                {
                    LogLimit(nameof(MaxSpecFileBytes), MaxSpecFileBytes, size);
                    throw new CdiSpecException(path, $"{size} bytes is over {nameof(MaxSpecFileBytes)} ({MaxSpecFileBytes})");
                }
                spec = CdiSpecParser.Parse(path, ReadBounded(path));
            }
            catch (CdiSpecException ex)
            {
                errors[path] = ex.Reason;
                LogBrokenSpec(path, ex.Reason);
                continue;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                errors[path] = ex.Message;
                LogBrokenSpec(path, ex.Message);
                continue;
            }
            foreach (var device in spec.Devices)
            {
                var name = $"{spec.Kind}={device.Name}";
                if (devices.TryGetValue(name, out var other))
                {
                    if (other.Priority > priority) continue;
                    if (other.Priority == priority)
                    {
                        conflicts.Add(name);
                        var reason = $"device {name} is also declared by {other.Device.SpecPath}";
                        errors[path] = reason;
                        LogBrokenSpec(path, reason);
                        continue;
                    }
                }
                devices[name] = (new ResolvedDevice(name, path, spec, device), priority);
            }
        }
        foreach (var conflict in conflicts) devices.Remove(conflict);
        LogLoaded(devices.Count, files.Count, errors.Count);
        return new Snapshot(devices.ToDictionary(d => d.Key, d => d.Value.Device, StringComparer.Ordinal), errors);
    }

    /// <summary>Reads at most <see cref="MaxSpecFileBytes"/>: the file may have grown since it was listed.</summary>
    private string ReadBounded(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var buffer = new byte[Math.Min(stream.Length, MaxSpecFileBytes) + 1];
        var total = 0;
        int read;
        while (total < buffer.Length && (read = stream.Read(buffer, total, buffer.Length - total)) > 0) total += read;
        if (total > MaxSpecFileBytes)
        {
            LogLimit(nameof(MaxSpecFileBytes), MaxSpecFileBytes, total);
            throw new CdiSpecException(path, $"over {nameof(MaxSpecFileBytes)} ({MaxSpecFileBytes})");
        }
        return System.Text.Encoding.UTF8.GetString(buffer, 0, total);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "CDI limit {Limit} ({Value}) exceeded: {Actual}")]
    private partial void LogLimit(string limit, long value, long actual);

    [LoggerMessage(Level = LogLevel.Warning, Message = "CDI spec {Path} is not used: {Reason}")]
    private partial void LogBrokenSpec(string path, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "CDI: {Devices} devices from {Files} spec files ({Errors} unusable)")]
    private partial void LogLoaded(int devices, int files, int errors);
}

/// <summary>A requested CDI device that cannot be given to the container.</summary>
public sealed class CdiResolutionException(string device, string message) : Exception(message)
{
    public string Device { get; } = device;
}
