using Crisp.Runtime.Cgroups;
using Xunit;

namespace Crisp.Runtime.Tests.Cgroups;

/// <summary>Both managers' ReadStatsAsync over fixture cgroup directories (no real cgroup, no root).</summary>
public sealed class CgroupStatsReadingTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("crisp-cgroup-fixture-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Write(string relativeDir, string file, string text)
    {
        var dir = Path.Combine(_root, relativeDir);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, file), text);
        return dir;
    }

    [Fact]
    public async Task V2_reads_exact_cpu_swap_io_and_pressure()
    {
        const string pod = "kubepods/podA/c1";
        Write(pod, "cpu.stat", "usage_usec 1234567\nuser_usec 1000000\nsystem_usec 234567\n");
        Write(pod, "memory.current", "104857600\n");
        Write(pod, "memory.stat", "anon 52428800\ninactive_file 4194304\npgfault 10\npgmajfault 1\n");
        Write(pod, "memory.max", "max\n");
        Write(pod, "memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n");
        Write(pod, "memory.swap.current", "8192\n");
        Write(pod, "memory.swap.max", "max\n");
        Write(pod, "io.stat", "8:0 rbytes=4096 wbytes=1024 rios=1 wios=1 dbytes=0 dios=0\n");
        Write(pod, "cpu.pressure", "some avg10=1.50 avg60=0.00 avg300=0.00 total=2500\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
        Write(pod, "memory.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=7\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=3\n");
        Write(pod, "io.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=11\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=5\n");
        var manager = new CgroupV2Manager(CgroupNaming.For("cgroupfs"), _root);

        var stats = await manager.ReadStatsAsync("/" + pod, CancellationToken.None);

        Assert.NotNull(stats);
        Assert.Equal(1_234_567_000UL, stats.CpuUsageCoreNanoSeconds);
        Assert.Equal(104857600UL - 4194304UL, stats.MemoryWorkingSetBytes);
        Assert.Equal(8192UL, stats.Swap!.UsageBytes);
        Assert.Equal(new Crisp.Runtime.Api.CgroupIo(4096, 1024), stats.Io);
        Assert.Equal(2500UL, stats.CpuPressure!.Some!.TotalMicroseconds);
        Assert.Equal(1.5, stats.CpuPressure.Some.Avg10);
        Assert.Equal(3UL, stats.MemoryPressure!.Full!.TotalMicroseconds);
        Assert.Equal(11UL, stats.IoPressure!.Some!.TotalMicroseconds);
    }

    [Fact]
    public async Task V2_without_swap_io_or_pressure_files_reports_none_of_them()
    {
        Write("p/c", "cpu.stat", "usage_usec 5\n");
        Write("p/c", "memory.current", "4096\n");
        var manager = new CgroupV2Manager(CgroupNaming.For("cgroupfs"), _root);

        var stats = await manager.ReadStatsAsync("/p/c", CancellationToken.None);

        Assert.Equal(5000UL, stats!.CpuUsageCoreNanoSeconds);
        Assert.Null(stats.Swap);
        Assert.Null(stats.Io);
        Assert.Null(stats.CpuPressure);
        Assert.Null(stats.MemoryPressure);
        Assert.Null(stats.IoPressure);
        Assert.Null(await manager.ReadStatsAsync("/p/absent", CancellationToken.None));
    }

    [Fact]
    public async Task V1_reads_nanosecond_cpu_memsw_swap_blkio_and_hybrid_pressure()
    {
        const string path = "kubepods/podB/c2";
        Write("cpuacct/" + path, "cpuacct.usage", "1234567891\n");
        Write("memory/" + path, "memory.usage_in_bytes", "20971520\n");
        Write("memory/" + path, "memory.limit_in_bytes", "33554432\n");
        Write("memory/" + path, "memory.memsw.usage_in_bytes", "23068672\n");
        Write("memory/" + path, "memory.memsw.limit_in_bytes", "9223372036854771712\n");
        Write("memory/" + path, "memory.stat", "total_rss 1048576\ntotal_inactive_file 1048576\ntotal_pgfault 3\ntotal_pgmajfault 0\n");
        Write("memory/" + path, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
        Write("blkio/" + path, "blkio.io_service_bytes_recursive", "Total 0\n");
        Write("blkio/" + path, "blkio.throttle.io_service_bytes_recursive", "8:0 Read 512\n8:0 Write 2048\n8:0 Total 2560\nTotal 2560\n");
        Write("unified/" + path, "cpu.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=42\n");
        var mounts = new CgroupV1MountTable(
            new Dictionary<string, string>
            {
                ["cpuacct"] = Path.Combine(_root, "cpuacct"),
                ["memory"] = Path.Combine(_root, "memory"),
                ["blkio"] = Path.Combine(_root, "blkio"),
            },
            [Path.Combine(_root, "cpuacct"), Path.Combine(_root, "memory"), Path.Combine(_root, "blkio"), Path.Combine(_root, "unified")],
            Path.Combine(_root, "unified"));
        var manager = new CgroupV1Manager(CgroupNaming.For("cgroupfs"), mounts);

        var stats = await manager.ReadStatsAsync("/" + path, CancellationToken.None);

        Assert.NotNull(stats);
        // Nanoseconds as the kernel counts them: not rounded to microseconds or seconds.
        Assert.Equal(1_234_567_891UL, stats.CpuUsageCoreNanoSeconds);
        Assert.Equal(20971520UL - 1048576UL, stats.MemoryWorkingSetBytes);
        Assert.Equal(33554432UL - (20971520UL - 1048576UL), stats.MemoryAvailableBytes);
        Assert.True(stats.OomKilled);
        Assert.Equal(2097152UL, stats.Swap!.UsageBytes);
        // The scheduler's counters are empty (no CFQ/BFQ); the throttle layer's are used.
        Assert.Equal(new Crisp.Runtime.Api.CgroupIo(512, 2048), stats.Io);
        Assert.Equal(42UL, stats.CpuPressure!.Some!.TotalMicroseconds);
        Assert.Null(stats.MemoryPressure);
    }

    [Fact]
    public async Task V1_without_memsw_has_no_swap()
    {
        Write("memory/p/c", "memory.usage_in_bytes", "4096\n");
        var mounts = new CgroupV1MountTable(new Dictionary<string, string> { ["memory"] = Path.Combine(_root, "memory") }, [Path.Combine(_root, "memory")], null);

        var stats = await new CgroupV1Manager(CgroupNaming.For("cgroupfs"), mounts).ReadStatsAsync("/p/c", CancellationToken.None);

        Assert.Null(stats!.Swap);
        Assert.Null(stats.Io);
        Assert.Null(stats.CpuPressure);
    }

    [Fact]
    public async Task The_oom_kill_check_reads_the_one_counter_of_either_version_and_an_absent_cgroup_saw_none()
    {
        Write("v2/killed", "memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
        Write("v2/spared", "memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 0\n");
        var v2 = new CgroupV2Manager(CgroupNaming.For("cgroupfs"), Path.Combine(_root, "v2"));
        Write("memory/killed", "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
        Write("memory/spared", "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
        var v1 = new CgroupV1Manager(CgroupNaming.For("cgroupfs"), new CgroupV1MountTable(
            new Dictionary<string, string> { ["memory"] = Path.Combine(_root, "memory") }, [Path.Combine(_root, "memory")], null));

        foreach (ICgroupManager manager in new ICgroupManager[] { v2, v1 })
        {
            Assert.True(await manager.SawOomKillAsync("/killed", CancellationToken.None));
            Assert.False(await manager.SawOomKillAsync("/spared", CancellationToken.None));
            Assert.False(await manager.SawOomKillAsync("/absent", CancellationToken.None));
        }
    }
}
