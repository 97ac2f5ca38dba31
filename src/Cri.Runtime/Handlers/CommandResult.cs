namespace Crisp.Runtime.Handlers;

/// <summary>Outcome of one runtime CLI invocation.</summary>
internal sealed record CommandResult(int ExitCode, string Stdout, string Stderr)
{
    public bool Succeeded => ExitCode == 0;

    /// <summary>The most useful error text: stderr when present, else stdout.</summary>
    public string ErrorText => (string.IsNullOrWhiteSpace(Stderr) ? Stdout : Stderr).Trim();
}
