namespace Crisp.Bench;

/// <summary>
/// Points the shared daemon fixture at the crispd built beside this bench. The fixture's own lookup reads its
/// repository root before that static property is initialised, so it needs CRISPD_PATH to be set.
/// </summary>
public static class BenchDaemonBinary
{
    public static void EnsureConfigured()
    {
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CRISPD_PATH"))) return;
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent?.Name ?? "Release";
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (!File.Exists(Path.Combine(directory.FullName, "Cri.sln"))) continue;
            Environment.SetEnvironmentVariable("CRISPD_PATH",
                Path.Combine(directory.FullName, "src", "Cri.Server", "bin", configuration, "net10.0", "crispd"));
            return;
        }
    }
}
