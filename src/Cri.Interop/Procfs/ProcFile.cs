using System.Globalization;

namespace Crisp.Interop.Procfs;

/// <summary>
/// Reading the kernel's pseudo-files (/proc, and /sys where a caller needs the same answer): a file that is
/// gone (the process exited, the kernel lacks the feature) or not readable is an absent value, not an error.
/// </summary>
public static class ProcFile
{
    public const string SelfMountInfo = "/proc/self/mountinfo";
    public const string SelfStatus = "/proc/self/status";

    /// <summary>/proc/&lt;pid&gt;/&lt;name&gt;, e.g. <c>OfProcess(42, "net/dev")</c>.</summary>
    public static string OfProcess(int pid, string name) => "/proc/" + pid.ToString(CultureInfo.InvariantCulture) + "/" + name;

    /// <summary>The whole text, or null when the file does not exist or cannot be read.</summary>
    public static string? TryReadText(string path)
    {
        try { return File.ReadAllText(path); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }
}
