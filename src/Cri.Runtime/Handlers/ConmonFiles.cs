using System.Globalization;

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
