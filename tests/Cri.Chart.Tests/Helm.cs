namespace Crisp.Chart.Tests;

/// <summary>The helm binary on PATH (Debian has no package: see charts/crisp/README.md for getting one).</summary>
internal static class Helm
{
    public static bool Available { get; } = (Environment.GetEnvironmentVariable("PATH") ?? "")
        .Split(':', StringSplitOptions.RemoveEmptyEntries)
        .Any(dir => File.Exists(Path.Combine(dir, "helm")));

    public const string NotAvailable = "helm is not on PATH (Debian has no helm package; see charts/crisp/README.md)";

    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] arguments) =>
        ToolProcess.RunAsync("helm", arguments);

    /// <summary>`helm template` of the chart with the given extra arguments; fails the test on a non-zero exit.</summary>
    public static async Task<string> TemplateAsync(params string[] arguments)
    {
        var (exitCode, stdout, stderr) = await RunAsync(["template", "crisp", ChartPaths.Chart, "--namespace", "crisp-system", .. arguments]);
        if (exitCode != 0) throw new InvalidOperationException($"helm template {string.Join(' ', arguments)} exited {exitCode}:\n{stderr}");
        return stdout;
    }
}
