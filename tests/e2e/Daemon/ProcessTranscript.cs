using System.Diagnostics;
using System.Text;

namespace Crisp.E2E.Daemon;

/// <summary>
/// What a daemon under test (crispd, or the bench's reference containerd) printed on stdout and stderr, interleaved
/// in arrival order and kept across its restarts, so a failure message can show why it did not serve.
/// </summary>
public sealed class ProcessTranscript
{
    private readonly StringBuilder _text = new();

    public string Text
    {
        get { lock (_text) return _text.ToString(); }
    }

    /// <summary>
    /// Starts <paramref name="info"/> with its three standard streams redirected (stdin stays open and unused, so the
    /// daemon never reads a terminal) and appends every line it prints to this transcript.
    /// </summary>
    public Process Start(ProcessStartInfo info)
    {
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.RedirectStandardInput = true;
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_text) _text.AppendLine(line);
    }
}
