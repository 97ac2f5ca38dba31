namespace Crisp.Server.Config;

/// <summary>PATH lookup, so handler and conmon paths may be bare names like the kubelet's defaults.</summary>
public static class ExecutableLookup
{
    public static string? Find(string nameOrPath)
    {
        if (nameOrPath.Contains('/')) return File.Exists(nameOrPath) ? nameOrPath : null;
        var path = Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        foreach (var dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = System.IO.Path.Combine(dir, nameOrPath);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
