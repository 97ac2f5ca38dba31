using System.Diagnostics;

namespace Crisp.E2E.Fixtures;

/// <summary>Runs short-lived command line tools to completion, capturing their output.</summary>
public static class ToolRunner
{
    public static async Task<ToolResult> RunAsync(string fileName, IEnumerable<string> arguments, CancellationToken cancellationToken = default)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        var commandLine = DisplayCommandLine(fileName, startInfo.ArgumentList);
        using var process = Process.Start(startInfo)
            ?? throw new InvalidOperationException($"could not start `{commandLine}`");
        process.StandardInput.Close();
        ExitCleanup.Track(process);
        try
        {
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken);
            return new ToolResult(commandLine, process.ExitCode, await stdout, await stderr);
        }
        catch (OperationCanceledException)
        {
            KillQuietly(process);
            throw;
        }
        finally
        {
            ExitCleanup.Untrack(process);
        }
    }

    /// <summary>Runs the tool and throws <see cref="ToolFailedException"/> unless it exits 0.</summary>
    public static async Task<ToolResult> RunCheckedAsync(string fileName, IEnumerable<string> arguments, CancellationToken cancellationToken = default) =>
        (await RunAsync(fileName, arguments, cancellationToken)).EnsureSuccess();

    internal static void KillQuietly(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone: nothing left to kill.
        }
    }

    private static readonly HashSet<string> CredentialOptions = ["--creds", "--dest-creds", "--src-creds"];

    // The command line ends up in exception messages and test logs: keep passwords out of it.
    private static string DisplayCommandLine(string fileName, IReadOnlyList<string> arguments)
    {
        var shown = new List<string>(arguments.Count + 1) { fileName };
        for (var i = 0; i < arguments.Count; i++)
        {
            // skopeo: --creds USER:PASS; htpasswd: -Bbn USER PASS.
            var secretFollows = (i > 0 && CredentialOptions.Contains(arguments[i - 1])) || (i > 1 && arguments[i - 2] == "-Bbn");
            shown.Add(secretFollows ? "<redacted>" : QuoteForDisplay(arguments[i]));
        }

        return string.Join(' ', shown);
    }

    private static string QuoteForDisplay(string argument) =>
        argument.Length > 0 && argument.All(c => char.IsLetterOrDigit(c) || "-_./:=@,+".Contains(c)) ? argument : "'" + argument.Replace("'", "'\\''") + "'";
}
