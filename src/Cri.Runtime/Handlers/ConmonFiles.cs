using System.Globalization;
using Crisp.Interop.Procfs;
using Crisp.Runtime.Host;

namespace Crisp.Runtime.Handlers;

/// <summary>The files conmon leaves in a container's persist dir and bundle.</summary>
public static class ConmonFiles
{
    /// <summary>Pid of the container's init process as the runtime wrote it.</summary>
    public static int? ReadContainerPid(string persistDir) => ReadPid(Path.Combine(persistDir, ConmonLauncher.ContainerPidFileName));

    /// <summary>Pid of the daemonized conmon monitoring the container.</summary>
    public static int? ReadConmonPid(string persistDir) => ReadPid(Path.Combine(persistDir, ConmonLauncher.ConmonPidFileName));

    /// <summary>conmon's control fifo; it lives in the bundle directory.</summary>
    public static string ControlFifo(string bundlePath) => Path.Combine(bundlePath, "ctl");

    /// <summary>conmon writes this marker when it saw the kernel OOM-kill a process of the container.</summary>
    public static bool OomMarkerExists(string persistDir) => File.Exists(Path.Combine(persistDir, "oom"));

    /// <summary>
    /// True when the conmon recorded in the persist dir is still running for this container. The pid file alone
    /// is not trusted (pids wrap quickly): the process's command line must be conmon's, naming this container.
    /// </summary>
    public static bool IsConmonRunning(string persistDir, string containerId) =>
        ReadConmonPid(persistDir) is { } pid && IsConmonWith(pid, "-c", "--cid", containerId);

    /// <summary>
    /// The conmon the persist dir names, with its start time, when it is running for this container; what a later
    /// kill must still match.
    /// </summary>
    internal static ProcessIdentity? IdentifyConmon(string persistDir, string containerId) =>
        ReadConmonPid(persistDir) is { } pid && IsConmonWith(pid, "-c", "--cid", containerId) ? ProcessIdentity.Of(pid) : null;

    /// <summary>The exec's conmon named by its pid file, with its start time, when it is still that exec's.</summary>
    internal static ProcessIdentity? IdentifyExecConmon(string pidFile, string execId) =>
        ReadPid(pidFile) is { } pid && IsExecConmon(pid, execId) ? ProcessIdentity.Of(pid) : null;

    /// <summary>True when <paramref name="pid"/> is the conmon started for this one exec (its -u names the exec).</summary>
    internal static bool IsExecConmon(int pid, string execId) => IsConmonWith(pid, "-u", "--cuuid", execId);

    private static bool IsConmonWith(int pid, string shortFlag, string longFlag, string value)
    {
        var args = ProcFile.TryReadText(ProcFile.OfProcess(pid, "cmdline"))?.Split('\0');
        if (args is null || !Path.GetFileName(args[0]).StartsWith("conmon", StringComparison.Ordinal)) return false;
        for (var i = 0; i + 1 < args.Length; i++)
        {
            if ((args[i] == shortFlag || args[i] == longFlag) && args[i + 1] == value) return true;
        }
        return false;
    }

    internal static int? ReadPid(string path)
    {
        try
        {
            var text = File.ReadAllText(path).Trim();
            return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid) && pid > 0 ? pid : null;
        }
        catch (IOException) { return null; }
    }
}
