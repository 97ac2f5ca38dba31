namespace Crisp.Chart.Tests;

/// <summary>The repository's chart and the files it must agree with.</summary>
internal static class ChartPaths
{
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string Chart => Path.Combine(RepositoryRoot, "charts", "crisp");

    public static string CustomValues => Path.Combine(AppContext.BaseDirectory, "values-custom.yaml");

    private static string FindRepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Cri.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new DirectoryNotFoundException($"no Cri.sln above {AppContext.BaseDirectory}");
    }
}
