using Crisp.Interop.Procfs;
using Crisp.Runtime.Host;
using Xunit;

namespace Crisp.Runtime.Tests.Host;

public sealed class HostFeatureDetectorTests
{
    [Fact]
    public void Detects_this_host()
    {
        var features = HostFeatureDetector.Detect();
        Assert.Equal(File.Exists("/sys/fs/cgroup/cgroup.controllers"), features.CgroupV2);
        var status = File.ReadAllText("/proc/self/status");
        if (!HostFeatureDetector.HasCapability(status, "CapEff", 24))
            Assert.Equal(int.Parse(File.ReadAllText("/proc/self/oom_score_adj").Trim()), features.MinOomScoreAdj);
        else
            Assert.Equal(-1000, features.MinOomScoreAdj);
        Assert.Equal(ProcessStatus.Field(status, "Seccomp") is not null && Directory.Exists("/proc/sys/kernel/seccomp"), features.SeccompEnabled);
    }

    [Fact]
    public void Capability_bits_are_read_from_status()
    {
        const string withoutSysResource = "Name:\tx\nCapEff:\t000001fffeffffff\nSeccomp:\t0\n";
        const string withSysResource = "Name:\tx\nCapEff:\t000001ffffffffff\n";
        Assert.False(HostFeatureDetector.HasCapability(withoutSysResource, "CapEff", 24));
        Assert.True(HostFeatureDetector.HasCapability(withoutSysResource, "CapEff", 21));
        Assert.True(HostFeatureDetector.HasCapability(withSysResource, "CapEff", 24));
        Assert.Equal("0", ProcessStatus.Field(withoutSysResource, "Seccomp"));
        Assert.Null(ProcessStatus.Field(withSysResource, "Seccomp"));
    }

    [Fact]
    public void Layout_is_hybrid_when_cgroup2_is_only_at_unified()
    {
        var root = Path.Combine(Path.GetTempPath(), "crisp-cglayout-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "unified"));
            Assert.Equal(CgroupLayout.Legacy, CgroupLayoutDetector.Detect(root));
            File.WriteAllText(Path.Combine(root, "unified", "cgroup.controllers"), "hugetlb\n");
            Assert.Equal(CgroupLayout.Hybrid, CgroupLayoutDetector.Detect(root));
            Assert.Equal(["hugetlb"], CgroupLayoutDetector.UnifiedControllers(root));
            File.WriteAllText(Path.Combine(root, "cgroup.controllers"), "cpu memory\n");
            Assert.Equal(CgroupLayout.Unified, CgroupLayoutDetector.Detect(root));
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void Process_identity_tracks_start_time()
    {
        var self = ProcessIdentity.Of(Environment.ProcessId);
        Assert.NotNull(self);
        Assert.True(self.Value.IsAlive());
        Assert.Equal(self, ProcessIdentity.Parse(self.Value.ToString()));
        // Same pid, different start time: a recycled pid is not the same process.
        Assert.False(new ProcessIdentity(Environment.ProcessId, self.Value.StartTime + 1).IsAlive());
    }
}
