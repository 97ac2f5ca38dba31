using System.Collections.Concurrent;
using Crisp.Cri.V1;
using Crisp.Runtime.Api;
using Crisp.Runtime.Cgroups;

namespace Crisp.Runtime.Tests.Fakes;

/// <summary>Pod cgroups as a set of paths; no stats.</summary>
public sealed class FakeCgroupManager : ICgroupManager
{
    private readonly ConcurrentDictionary<string, byte> _pods = new(StringComparer.Ordinal);

    public Exception? FailEnsure { get; set; }
    public IReadOnlyCollection<string> PodCgroups => _pods.Keys.ToList();

    public string Driver => "cgroupfs";
    public bool IsV2 => false;

    public string PodCgroupParent(string kubeletCgroupParent, string podUid) =>
        string.IsNullOrEmpty(kubeletCgroupParent) ? $"/kubepods/pod{podUid}" : kubeletCgroupParent;

    public string ContainerCgroupsPath(string podCgroupParent, string containerId) => $"{podCgroupParent}/{containerId}";

    public string FilesystemPath(string cgroupsPath) => cgroupsPath;

    public Task EnsurePodCgroupAsync(string podCgroupParent, LinuxContainerResources? resources, CancellationToken ct)
    {
        _pods[podCgroupParent] = 0;
        if (FailEnsure is not null) throw FailEnsure;
        return Task.CompletedTask;
    }

    public Task<CgroupStats?> ReadStatsAsync(string cgroupsPath, CancellationToken ct) => Task.FromResult<CgroupStats?>(null);

    public Task ApplyResourcesAsync(string cgroupsPath, LinuxContainerResources resources, CancellationToken ct) => Task.CompletedTask;

    public Task RemoveAsync(string cgroupsPath, CancellationToken ct)
    {
        _pods.TryRemove(cgroupsPath, out _);
        return Task.CompletedTask;
    }
}
