using System.Globalization;

namespace Crisp.Runtime.Monitor;

/// <summary>conmon's exit file: &lt;exit-dir&gt;/&lt;container id&gt; holding the decimal exit status (128+signal when killed).</summary>
public static class ExitFile
{
    /// <summary>Reads the exit, or null when there is none yet (or conmon is still writing it).</summary>
    public static ContainerExit? TryRead(string exitDir, string containerId)
    {
        var path = Path.Combine(exitDir, containerId);
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) return null;
            var text = File.ReadAllText(path).Trim();
            if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var code)) return null;
            return new ContainerExit(containerId, code, new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero));
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }
}
