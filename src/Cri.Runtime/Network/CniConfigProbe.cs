namespace Crisp.Runtime.Network;

/// <summary>The outcome of looking for a usable CNI network config; <see cref="Config"/> is set when ready.</summary>
public sealed record CniConfigState(bool Ready, CniNetworkConfig? Config, string Reason, string Message, IReadOnlyList<string> SkippedFiles)
{
    public string? ConfigFile => Config?.SourceFile;
    public string? NetworkName => Config?.Name;
}

/// <summary>
/// Finds the CNI config the runtime uses: the first valid .conflist/.conf/.json file in lexical order, as libcni
/// does. Invalid files are skipped with the reason kept for Status and the logs.
/// </summary>
public static class CniConfigProbe
{
    public const string NotReadyReason = "NetworkPluginNotReady";

    private static readonly string[] Extensions = [".conflist", ".conf", ".json"];

    public static IEnumerable<string> CandidateFiles(string confDir) =>
        Directory.Exists(confDir)
            ? Directory.EnumerateFiles(confDir).Where(f => Extensions.Contains(Path.GetExtension(f))).Order(StringComparer.Ordinal)
            : [];

    public static CniConfigState Probe(string confDir)
    {
        var skipped = new List<string>();
        if (!Directory.Exists(confDir))
            return NotReady($"no CNI network config: directory {confDir} does not exist", skipped);

        foreach (var file in CandidateFiles(confDir))
        {
            try
            {
                return new CniConfigState(true, CniNetworkConfig.Load(file), "", "", skipped);
            }
            catch (FormatException e)
            {
                skipped.Add($"{file}: {e.Message}");
            }
            catch (IOException e)
            {
                skipped.Add($"{file}: unreadable: {e.Message}");
            }
            catch (UnauthorizedAccessException e)
            {
                skipped.Add($"{file}: unreadable: {e.Message}");
            }
        }
        var detail = skipped.Count == 0 ? "" : $" (skipped: {string.Join("; ", skipped)})";
        return NotReady($"no valid CNI network config found in {confDir}{detail}", skipped);
    }

    private static CniConfigState NotReady(string message, List<string> skipped) =>
        new(false, null, NotReadyReason, message, skipped);
}
