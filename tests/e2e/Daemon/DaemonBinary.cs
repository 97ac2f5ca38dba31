namespace Crisp.E2E.Daemon;

/// <summary>
/// Finds the crispd built alongside the tests (or CRISPD_PATH when set): the native AOT binary `make build` publishes,
/// unless it is older than the JIT build (a `dotnet build` after the last publish), which is then the one that
/// matches the sources.
/// </summary>
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
        var bin = System.IO.Path.Combine(RepositoryRoot, "src", "Cri.Server", "bin", configuration);
        var native = System.IO.Path.Combine(bin, "native", "crispd");
        var jit = System.IO.Path.Combine(bin, "net10.0", "crispd");
        var jitAssembly = System.IO.Path.Combine(bin, "net10.0", "crispd.dll");
        if (File.Exists(native) && (!File.Exists(jitAssembly) || File.GetLastWriteTimeUtc(native) >= File.GetLastWriteTimeUtc(jitAssembly)))
            return native;
        if (!File.Exists(jit))
            throw new FileNotFoundException($"crispd not built at {native} or {jit}; build first (make build)");
        return jit;
    }

    private static string FindRepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "Cri.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new DirectoryNotFoundException($"no Cri.sln above {AppContext.BaseDirectory}");
    }
}
