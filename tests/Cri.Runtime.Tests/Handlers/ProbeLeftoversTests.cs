using Crisp.Runtime.Handlers;
using Xunit;

namespace Crisp.Runtime.Tests.Handlers;

/// <summary>Runs against a directory tree shaped like /sys/fs/cgroup (no root, no real cgroups).</summary>
public sealed class ProbeLeftoversTests : IDisposable
{
    private readonly string _cgroupRoot = Directory.CreateTempSubdirectory("crisp-probe-leftovers-cg-").FullName;
    private readonly string _temp = Directory.CreateTempSubdirectory("crisp-probe-leftovers-tmp-").FullName;
    private readonly DateTime _now = DateTime.UtcNow;

    public void Dispose()
    {
        Directory.Delete(_cgroupRoot, recursive: true);
        Directory.Delete(_temp, recursive: true);
    }

    private string Make(string path, TimeSpan age)
    {
        Directory.CreateDirectory(path);
        Directory.SetLastWriteTimeUtc(path, _now - age);
        return path;
    }

    [Fact]
    public void The_stale_sweep_takes_old_probe_cgroups_and_bundles_and_nothing_else()
    {
        var oldMemory = Make(Path.Combine(_cgroupRoot, "memory", "crisp-probe-0123456789ab"), TimeSpan.FromHours(2));
        var oldUnified = Make(Path.Combine(_cgroupRoot, "crisp-probe-0123456789ab"), TimeSpan.FromHours(2));
        var running = Make(Path.Combine(_cgroupRoot, "cpu", "crisp-probe-ba9876543210"), TimeSpan.FromSeconds(3));
        var withChild = Make(Path.Combine(_cgroupRoot, "pids", "crisp-probe-0123456789ab"), TimeSpan.FromHours(2));
        Make(Path.Combine(withChild, "child"), TimeSpan.FromHours(2));
        var notAProbe = Make(Path.Combine(_cgroupRoot, "memory", "kubepods"), TimeSpan.FromHours(2));
        var oldBundle = Make(Path.Combine(_temp, "crisp-probe-runc-0f0f", "state"), TimeSpan.FromHours(2));
        Directory.SetLastWriteTimeUtc(Path.GetDirectoryName(oldBundle)!, _now - TimeSpan.FromHours(2));
        var newBundle = Make(Path.Combine(_temp, "crisp-probe-runc-1e1e"), TimeSpan.Zero);

        ProbeLeftovers.SweepStale(_now, _cgroupRoot, _temp);

        Assert.False(Directory.Exists(oldMemory));
        Assert.False(Directory.Exists(oldUnified));
        Assert.False(Directory.Exists(Path.GetDirectoryName(oldBundle)));
        // A probe in flight (another crispd's), a cgroup that is not empty and anything not a probe's stay.
        Assert.True(Directory.Exists(running));
        Assert.True(Directory.Exists(withChild));
        Assert.True(Directory.Exists(notAProbe));
        Assert.True(Directory.Exists(newBundle));
    }

    [Fact]
    public async Task A_finished_probes_cgroup_is_removed_from_every_hierarchy()
    {
        var id = "crisp-probe-00aa11bb22cc";
        var inHierarchies = new[] { "memory", "cpu,cpuacct", "unified" }.Select(h => Make(Path.Combine(_cgroupRoot, h, id), TimeSpan.Zero)).ToList();
        var other = Make(Path.Combine(_cgroupRoot, "memory", "crisp-probe-ffffffffffff"), TimeSpan.Zero);

        await ProbeLeftovers.RemoveCgroupAsync(id, _cgroupRoot);

        Assert.All(inHierarchies, path => Assert.False(Directory.Exists(path)));
        Assert.True(Directory.Exists(other));
    }
}
