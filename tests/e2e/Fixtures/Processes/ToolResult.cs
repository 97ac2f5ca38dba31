namespace Crisp.E2E.Fixtures;

/// <summary>Outcome of a finished external tool run.</summary>
public sealed record ToolResult(string CommandLine, int ExitCode, string StandardOutput, string StandardError)
{
    public bool Succeeded => ExitCode == 0;

    public ToolResult EnsureSuccess() =>
        Succeeded ? this : throw new ToolFailedException(CommandLine, ExitCode, StandardOutput, StandardError);
}
