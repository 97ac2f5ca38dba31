using System.Text;

namespace Crisp.Bench;

/// <summary>Finds the conmon that monitors a container, by scanning /proc as pgrep -f would.</summary>
public static class ConmonProcesses
{
    /// <summary>Pid of the conmon whose command line names <paramref name="containerId"/>, or null.</summary>
    public static int? Find(string containerId)
    {
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid)) continue;
            try
            {
                if (File.ReadAllText(Path.Combine(directory, "comm")).Trim() != "conmon") continue;
                var arguments = Encoding.UTF8.GetString(File.ReadAllBytes(Path.Combine(directory, "cmdline"))).Split('\0');
                if (arguments.Contains(containerId, StringComparer.Ordinal)) return pid;
            }
            catch (IOException)
            {
                // The process ended while we looked.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        return null;
    }
}
