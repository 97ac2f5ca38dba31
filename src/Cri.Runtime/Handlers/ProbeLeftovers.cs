using Crisp.Runtime.Api;
using Crisp.Runtime.Cgroups;

namespace Crisp.Runtime.Handlers;

/// <summary>
/// Removes what a <see cref="HandlerProbe"/> container can leave behind. runc's own cleanup of `runc run` sometimes
/// fails to rmdir a v1 cgroup its init has only just left (EBUSY under load), and a crispd killed during its probe
/// never reaches the probe's cleanup at all: each left an empty `crisp-probe-*` cgroup in every hierarchy (25 on this
/// machine after a day of test runs). Only empty cgroups go (rmdir refuses one with processes or children), and a
/// stale sweep takes only entries older than <see cref="StaleAfter"/>, so a probe another crispd runs at the same
/// moment is never touched.
/// </summary>
internal static class ProbeLeftovers
{
    public const string Prefix = "crisp-probe-";
    public static readonly TimeSpan StaleAfter = TimeSpan.FromMinutes(10);
    private const string CgroupRoot = "/sys/fs/cgroup";

    /// <summary>
    /// Removes the cgroup of one finished probe (cgroupfs path "/id") from the unified root and every hierarchy, with
    /// the cgroup managers' own EBUSY retry; one still busy after it is left to a later stale sweep.
    /// </summary>
    public static async Task RemoveCgroupAsync(string id, string cgroupRoot = CgroupRoot)
    {
        foreach (var hierarchy in Hierarchies(cgroupRoot))
        {
            try { await CgroupFiles.RemoveTreeAsync(Path.Combine(hierarchy, id), CancellationToken.None).ConfigureAwait(false); }
            catch (RuntimeException) { }
        }
    }

    /// <summary>Removes probe cgroups and bundle directories older than <see cref="StaleAfter"/>.</summary>
    public static void SweepStale(DateTime nowUtc, string cgroupRoot = CgroupRoot, string? tempDirectory = null)
    {
        foreach (var hierarchy in Hierarchies(cgroupRoot))
        {
            foreach (var cgroup in Stale(hierarchy, nowUtc)) TryRemoveDirectory(cgroup, recursive: false);
        }
        foreach (var bundle in Stale(tempDirectory ?? Path.GetTempPath(), nowUtc)) TryRemoveDirectory(bundle, recursive: true);
    }

    private static IEnumerable<string> Hierarchies(string cgroupRoot)
    {
        if (!Directory.Exists(cgroupRoot)) return [];
        return Directory.EnumerateDirectories(cgroupRoot).Prepend(cgroupRoot);
    }

    private static IEnumerable<string> Stale(string parent, DateTime nowUtc)
    {
        try
        {
            return Directory.EnumerateDirectories(parent, Prefix + "*")
                .Where(d => nowUtc - Directory.GetLastWriteTimeUtc(d) > StaleAfter)
                .ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static bool TryRemoveDirectory(string path, bool recursive)
    {
        try
        {
            Directory.Delete(path, recursive);
            return true;
        }
        catch (DirectoryNotFoundException)
        {
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
