using Crisp.Runtime.Api;
using Crisp.Runtime.Cgroups;
using Xunit;

namespace Crisp.Runtime.Tests.Cgroups;

public sealed class CgroupStatParsersTests
{
    [Fact]
    public void Pressure_reads_some_and_full_lines()
    {
        var psi = CgroupStatParsers.Pressure("some avg10=6.43 avg60=23.76 avg300=52.53 total=4094649732\nfull avg10=0.00 avg60=0.10 avg300=0.00 total=17\n");

        Assert.Equal(new PressureLine(6.43, 23.76, 52.53, 4094649732), psi!.Some);
        Assert.Equal(new PressureLine(0, 0.10, 0, 17), psi.Full);
    }

    [Fact]
    public void Pressure_of_cpu_on_older_kernels_has_only_some()
    {
        var psi = CgroupStatParsers.Pressure("some avg10=1.00 avg60=2.00 avg300=3.00 total=99\n");
        Assert.NotNull(psi!.Some);
        Assert.Null(psi.Full);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("some avg10=x avg60=1 avg300=1 total=1\n")]
    [InlineData("some avg10=1.0 avg60=1.0 total=1\n")]
    public void Pressure_that_is_missing_or_garbled_is_null(string? text) => Assert.Null(CgroupStatParsers.Pressure(text));

    [Fact]
    public void Io_stat_sums_bytes_over_devices()
    {
        var io = CgroupStatParsers.IoStat("8:0 rbytes=4096 wbytes=1024 rios=1 wios=1 dbytes=0 dios=0\n259:0 rbytes=100 wbytes=50 rios=2 wios=3 dbytes=0 dios=0\n");
        Assert.Equal(new CgroupIo(4196, 1074), io);
    }

    [Fact]
    public void Io_stat_of_a_cgroup_without_io_yet_is_zero_and_missing_is_null()
    {
        Assert.Equal(new CgroupIo(0, 0), CgroupStatParsers.IoStat(""));
        Assert.Null(CgroupStatParsers.IoStat(null));
    }

    [Fact]
    public void Blkio_service_bytes_sums_read_and_write_over_devices()
    {
        const string text = "8:0 Read 8192\n8:0 Write 4096\n8:0 Sync 12288\n8:0 Async 0\n8:0 Discard 0\n8:0 Total 12288\n"
            + "253:0 Read 10\n253:0 Write 20\n253:0 Total 30\nTotal 12318\n";
        Assert.Equal(new CgroupIo(8202, 4116), CgroupStatParsers.BlkioServiceBytes(text));
        Assert.Equal(new CgroupIo(0, 0), CgroupStatParsers.BlkioServiceBytes("Total 0\n"));
        Assert.Null(CgroupStatParsers.BlkioServiceBytes(null));
    }

    [Fact]
    public void Key_values_skip_lines_that_do_not_parse()
    {
        var values = CgroupStatParsers.KeyValues("usage_usec 1234567\nuser_usec 1000\nbogus\nnr_periods x\n");
        Assert.Equal(1234567UL, values["usage_usec"]);
        Assert.Equal(2, values.Count);
        Assert.Empty(CgroupStatParsers.KeyValues(null));
    }

    [Theory]
    [InlineData("max\n", null)]
    [InlineData("268435456\n", 268435456UL)]
    [InlineData(null, null)]
    public void Limits_read_max_as_none(string? text, ulong? expected) => Assert.Equal(expected, CgroupStatParsers.Limit(text));

    [Fact]
    public void Swap_available_is_the_own_room_capped_by_the_hosts_free_swap()
    {
        Assert.Equal(new CgroupSwap(10, 90), CgroupManagerBase.SwapOf(10, 100, 1000));
        Assert.Equal(new CgroupSwap(10, 50), CgroupManagerBase.SwapOf(10, 100, 50));
        Assert.Equal(new CgroupSwap(10, 1000), CgroupManagerBase.SwapOf(10, null, 1000));
        Assert.Equal(new CgroupSwap(0, 0), CgroupManagerBase.SwapOf(0, null, 0));
    }
}
