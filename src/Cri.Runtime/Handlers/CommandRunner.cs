using System.Diagnostics;
using System.Text;

namespace Crisp.Runtime.Handlers;

/// <summary>Runs short-lived helper commands (runtime CLI, probes) and collects their output.</summary>
internal static class CommandRunner
{
    public static async Task<CommandResult> RunAsync(
        string fileName, IEnumerable<string> args, CancellationToken ct, string? stdin = null, TimeSpan? timeout = null,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (environment is not null)
            foreach (var (key, value) in environment) psi.Environment[key] = value;

        using var process = Process.Start(psi)
            ?? throw new InvalidOperationException($"could not start {fileName}");
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        if (timeout is { } t) deadline.CancelAfter(t);

        var stdout = process.StandardOutput.ReadToEndAsync(deadline.Token);
        var stderr = process.StandardError.ReadToEndAsync(deadline.Token);
        try
        {
            try
            {
                if (stdin is not null)
                    await process.StandardInput.WriteAsync(stdin.AsMemory(), deadline.Token).ConfigureAwait(false);
                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // Broken pipe: the command closed its stdin without reading it all (often because it is exiting with
                // an error, possibly before HasExited says so). Its exit code and output still tell what happened.
                // Dispose the writer here, where its failing flush of the unsent rest is expected, not in Process.Dispose.
                try { process.StandardInput.Dispose(); }
                catch (IOException) { }
            }
            await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
            return new CommandResult(process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
            TryKill(process);
            if (ct.IsCancellationRequested) throw;
            throw new TimeoutException($"{fileName} {string.Join(' ', psi.ArgumentList)} did not finish within {timeout}");
        }
    }

    internal static void TryKill(Process process)
    {
        try { process.Kill(entireProcessTree: false); }
        catch (InvalidOperationException) { }
        catch (System.ComponentModel.Win32Exception) { }
    }

    internal static string Describe(string fileName, IEnumerable<string> args)
    {
        var sb = new StringBuilder(fileName);
        foreach (var a in args) sb.Append(' ').Append(a);
        return sb.ToString();
    }
}
