using Crisp.E2E.Daemon;
using Crisp.E2E.Fixtures;

namespace Crisp.E2E.Packaging;

/// <summary>The repository's make targets for installing and releasing, run on the crispd these tests were built with.</summary>
public static class MakeTargets
{
    public static Task<ToolResult> RunAsync(string target, params string[] variables) =>
        ToolRunner.RunAsync("make", ["-s", "-C", DaemonBinary.RepositoryRoot, target, $"CRISPD={DaemonBinary.Path}", .. variables]);

    /// <summary>Every file and symlink under <paramref name="root"/>, relative (directories are not listed).</summary>
    public static SortedSet<string> Files(string root) =>
        new(Directory.EnumerateFileSystemEntries(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
                .Where(p => !Directory.Exists(p) || new FileInfo(p).LinkTarget is not null)
                .Select(p => Path.GetRelativePath(root, p)),
            StringComparer.Ordinal);

    public static bool IsOnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, tool)));
}
