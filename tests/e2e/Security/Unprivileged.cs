using Crisp.E2E.Fixtures;
using Xunit;

namespace Crisp.E2E.Security;

/// <summary>Runs host commands as the unprivileged user nobody (65534, no groups), as a local attacker would.</summary>
public static class Unprivileged
{
    private const string Nobody = "65534";

    public static Task<ToolResult> RunAsync(params string[] command) =>
        ToolRunner.RunAsync("setpriv", ["--reuid=" + Nobody, "--regid=" + Nobody, "--clear-groups", "--", .. command]);

    /// <summary>
    /// Asserts nobody can neither stat <paramref name="path"/> nor read it (cat a file, ls a directory), and that
    /// each attempt fails for lack of permission, not because the path is missing. The path must exist (checked
    /// as root), so the assertion cannot pass by accident.
    /// </summary>
    public static async Task AssertUnreachableAsync(string path)
    {
        Assert.True(File.Exists(path) || Directory.Exists(path), $"{path} should exist (as root) for this check to mean anything");
        var attempts = new List<string[]> { new[] { "stat", "--", path } };
        attempts.Add(Directory.Exists(path) ? ["ls", "-la", "--", path] : ["head", "-c", "16", "--", path]);
        foreach (var attempt in attempts)
        {
            var result = await RunAsync(attempt);
            Assert.True(result.ExitCode != 0 && result.StandardError.Contains("Permission denied", StringComparison.Ordinal),
                $"nobody ran `{string.Join(' ', attempt)}`: exit {result.ExitCode}, stdout \"{result.StandardOutput.Trim()}\", stderr \"{result.StandardError.Trim()}\"");
        }
    }

    /// <summary>Asserts nobody cannot list the directory, though it may stat it (its parent is open, like /var/lib).</summary>
    public static async Task AssertUnlistableAsync(string directory)
    {
        Assert.True(Directory.Exists(directory), $"{directory} should exist");
        var result = await RunAsync("ls", "-la", "--", directory);
        Assert.True(result.ExitCode != 0 && result.StandardError.Contains("Permission denied", StringComparison.Ordinal),
            $"nobody listed {directory}: exit {result.ExitCode}, stdout \"{result.StandardOutput.Trim()}\", stderr \"{result.StandardError.Trim()}\"");
    }
}
