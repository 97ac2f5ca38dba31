using System.Collections.Concurrent;
using Crisp.Runtime.Api;
using Crisp.Runtime.Cgroups;

namespace Crisp.Runtime.Tests.Fakes;

/// <summary>Pod cgroups as a set of paths, every call to the seam in order, and stats a test sets per cgroup.</summary>
public sealed class FakeCgroupManager : ICgroupManager
{
    private readonly ConcurrentDictionary<string, byte> _pods = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _calls = new();

    public Exception? FailEnsure { get; set; }
    public IReadOnlyCollection<string> PodCgroups => _pods.Keys.ToList();

    /// <summary>"ensure &lt;path&gt;", "stats &lt;path&gt;", "remove &lt;path&gt;": what crisp did to the host's cgroups.</summary>
    public IReadOnlyList<string> Calls => _calls.ToList();

    /// <summary>The sample <see cref="ReadStatsAsync"/> answers per cgroupsPath (none: the cgroup does not exist).</summary>
    public ConcurrentDictionary<string, CgroupStats> Stats { get; } = new(StringComparer.Ordinal);

    public string Driver => "cgroupfs";
    public bool IsV2 => false;

    public string PodCgroupParent(string kubeletCgroupParent, string podUid) =>
        string.IsNullOrEmpty(kubeletCgroupParent) ? $"/kubepods/pod{podUid}" : kubeletCgroupParent;

    public string ContainerCgroupsPath(string podCgroupParent, string containerId) => $"{podCgroupParent}/{containerId}";

    public string FilesystemPath(string cgroupsPath) => cgroupsPath;

    public Task EnsurePodCgroupAsync(string podCgroupParent, CancellationToken ct)
    {
        _calls.Enqueue("ensure " + podCgroupParent);
        _pods[podCgroupParent] = 0;
        if (FailEnsure is not null) throw FailEnsure;
        return Task.CompletedTask;
    }

    public Task<CgroupStats?> ReadStatsAsync(string cgroupsPath, CancellationToken ct)
    {
        _calls.Enqueue("stats " + cgroupsPath);
        return Task.FromResult(Stats.TryGetValue(cgroupsPath, out var stats) ? stats : null);
    }

    public Task<bool> SawOomKillAsync(string cgroupsPath, CancellationToken ct)
    {
        _calls.Enqueue("oom " + cgroupsPath);
        return Task.FromResult(Stats.TryGetValue(cgroupsPath, out var stats) && stats.OomKilled);
    }

    public Task RemoveAsync(string cgroupsPath, CancellationToken ct)
    {
        _calls.Enqueue("remove " + cgroupsPath);
        _pods.TryRemove(cgroupsPath, out _);
        return Task.CompletedTask;
    }
}
