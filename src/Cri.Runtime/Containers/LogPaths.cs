using Crisp.Runtime.Api;

namespace Crisp.Runtime.Containers;

/// <summary>The container log file: the pod's log_directory joined with the container's log_path, never escaping it.</summary>
public static class LogPaths
{
    public static string Resolve(string podLogDirectory, string containerLogPath)
    {
        if (string.IsNullOrEmpty(containerLogPath)) return "";
        if (string.IsNullOrEmpty(podLogDirectory))
            throw RuntimeException.InvalidField("config.log_path", $"\"{containerLogPath}\" is set but the pod sandbox has no log_directory");
        if (Path.IsPathRooted(containerLogPath))
            throw RuntimeException.InvalidField("config.log_path", $"\"{containerLogPath}\" must be relative to the pod's log_directory");
        var directory = Path.GetFullPath(podLogDirectory);
        var full = Path.GetFullPath(Path.Combine(directory, containerLogPath));
        if (!full.StartsWith(Path.TrimEndingDirectorySeparator(directory) + "/", StringComparison.Ordinal))
            throw RuntimeException.InvalidField("config.log_path", $"\"{containerLogPath}\" escapes the pod log directory {podLogDirectory}");
        return full;
    }
}
