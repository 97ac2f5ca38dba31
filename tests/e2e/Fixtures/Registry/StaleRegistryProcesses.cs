namespace Crisp.E2E.Fixtures;

/// <summary>
/// Kills docker-registry processes left behind by a test process that died before disposing its fixtures.
/// Only registries serving a config inside a fixture temp directory of a dead test process are touched.
/// </summary>
internal static class StaleRegistryProcesses
{
    public static void Kill(string directoryPrefix)
    {
        foreach (var procEntry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(procEntry), out var pid))
            {
                continue;
            }

            string[] argv;
            try
            {
                argv = File.ReadAllText(Path.Combine(procEntry, "cmdline")).Split('\0');
            }
            catch (IOException)
            {
                continue; // exited while we looked
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }

            if (argv.Length >= 3 && argv[0].EndsWith("docker-registry", StringComparison.Ordinal) && argv[1] == "serve"
                && StaleTempDirectories.IsOrphaned(argv[2], directoryPrefix))
            {
                try
                {
                    using var orphan = System.Diagnostics.Process.GetProcessById(pid);
                    orphan.Kill();
                }
                catch (ArgumentException)
                {
                    // Already gone.
                }
                catch (InvalidOperationException)
                {
                }
            }
        }
    }
}
