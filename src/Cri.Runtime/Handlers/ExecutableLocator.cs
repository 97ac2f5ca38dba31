namespace Crisp.Runtime.Handlers;

/// <summary>Resolves a configured binary ("runc" or "/usr/sbin/runc") to an absolute path the way a shell would.</summary>
public static class ExecutableLocator
{
    private static readonly string[] FallbackDirs = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

    public static string? Find(string nameOrPath)
    {
        if (nameOrPath.Contains('/'))
            return IsExecutable(nameOrPath) ? Path.GetFullPath(nameOrPath) : null;

        var pathVar = Environment.GetEnvironmentVariable("PATH") ?? "";
        var dirs = pathVar.Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(FallbackDirs);
        foreach (var dir in dirs)
        {
            var candidate = Path.Combine(dir, nameOrPath);
            if (IsExecutable(candidate)) return candidate;
        }
        return null;
    }

    private static bool IsExecutable(string path)
    {
        try
        {
            if (!File.Exists(path) || !OperatingSystem.IsLinux()) return false;
            var mode = File.GetUnixFileMode(path);
            return (mode & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }
}
