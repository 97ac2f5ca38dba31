namespace Crisp.E2E.Daemon;

/// <summary>Finds the crispd built alongside the tests (or CRISPD_PATH when set).</summary>
public static class DaemonBinary
{
    // Declared first: static initialisers run in order and Path needs it.
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string Path { get; } = Locate();

    private static string Locate()
    {
        var overridePath = Environment.GetEnvironmentVariable("CRISPD_PATH");
        if (!string.IsNullOrEmpty(overridePath)) return overridePath;
#if DEBUG
        const string configuration = "Debug";
#else
        const string configuration = "Release";
#endif
        var candidate = System.IO.Path.Combine(RepositoryRoot, "src", "Cri.Server", "bin", configuration, "net10.0", "crispd");
        if (!File.Exists(candidate))
            throw new FileNotFoundException($"crispd not built at {candidate}; build the solution first (make build)");
        return candidate;
    }

    private static string FindRepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "Cri.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new DirectoryNotFoundException($"no Cri.sln above {AppContext.BaseDirectory}");
    }
}
