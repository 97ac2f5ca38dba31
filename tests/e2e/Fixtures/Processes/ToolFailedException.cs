namespace Crisp.E2E.Fixtures;

/// <summary>An external tool (skopeo, htpasswd, ...) exited non-zero; carries the command line and its output.</summary>
public sealed class ToolFailedException : Exception
{
    public ToolFailedException(string commandLine, int exitCode, string standardOutput, string standardError)
        : base($"`{commandLine}` exited with {exitCode}: {Summarize(standardError, standardOutput)}")
    {
        CommandLine = commandLine;
        ExitCode = exitCode;
        StandardOutput = standardOutput;
        StandardError = standardError;
    }

    public string CommandLine { get; }
    public int ExitCode { get; }
    public string StandardOutput { get; }
    public string StandardError { get; }

    private static string Summarize(string stderr, string stdout)
    {
        var text = string.IsNullOrWhiteSpace(stderr) ? stdout : stderr;
        text = text.Trim();
        return text.Length <= 2000 ? text : text[..2000] + "...";
    }
}
