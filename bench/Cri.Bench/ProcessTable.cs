using System.Globalization;
using System.Text;

namespace Crisp.Bench;

/// <summary>The host's processes as /proc lists them (what pgrep -f scans): conmons, containerd shims and their children.</summary>
public static class ProcessTable
{
    public sealed record HostProcess(int Pid, int ParentPid, string Command, IReadOnlyList<string> Arguments);

    public static List<HostProcess> Snapshot()
    {
        var processes = new List<HostProcess>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                // comm is in parentheses and may itself hold spaces and parentheses: the fields follow the last ')'.
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                var parent = int.Parse(fields[1], CultureInfo.InvariantCulture);
                var command = File.ReadAllText(Path.Combine(directory, "comm")).Trim();
                var arguments = Encoding.UTF8.GetString(File.ReadAllBytes(Path.Combine(directory, "cmdline"))).Split('\0');
                processes.Add(new HostProcess(pid, parent, command, arguments));
            }
            catch (IOException)
            {
                // The process ended while we looked.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        return processes;
    }

    /// <summary>Pid of the conmon whose command line names <paramref name="containerId"/>, or null.</summary>
    public static int? FindConmon(string containerId) =>
        Snapshot().FirstOrDefault(p => p.Command == "conmon" && p.Arguments.Contains(containerId, StringComparer.Ordinal))?.Pid;

    /// <summary>The given processes and every descendant of theirs, children first.</summary>
    public static List<int> WithDescendants(List<HostProcess> table, IReadOnlyCollection<int> roots)
    {
        var result = new List<int>();
        var pending = new Queue<int>(roots);
        var seen = new HashSet<int>();
        while (pending.TryDequeue(out var pid))
        {
            if (!seen.Add(pid)) continue;
            result.Add(pid);
            foreach (var child in table.Where(p => p.ParentPid == pid)) pending.Enqueue(child.Pid);
        }
        result.Reverse();
        return result;
    }
}
