using Crisp.Interop.Procfs;
using Xunit;

namespace Crisp.Interop.Tests.Procfs;

public sealed class ProcessStatusTests
{
    private const string Status = "Name:\tcrispd\nUmask:\t0022\nCapEff:\t000001fffeffffff\nCapBnd:\t000001ffffffffff\nSeccomp:\t0\nSeccomp_filters:\t2\nEmpty:\n";

    [Theory]
    [InlineData("Name", "crispd")]
    [InlineData("Seccomp", "0")]
    [InlineData("Seccomp_filters", "2")]
    [InlineData("Empty", "")]
    [InlineData("Cap", null)]
    [InlineData("Missing", null)]
    public void A_field_is_matched_by_its_whole_name(string field, string? value) =>
        Assert.Equal(value, ProcessStatus.Field(Status, field));

    [Fact]
    public void Hex_masks_are_decoded()
    {
        Assert.Equal(0x000001fffefffffful, ProcessStatus.HexMask(Status, "CapEff"));
        Assert.Equal(0x000001fffffffffful, ProcessStatus.HexMask(Status, "CapBnd"));
        Assert.Null(ProcessStatus.HexMask(Status, "Name"));
        Assert.Null(ProcessStatus.HexMask(Status, "CapPrm"));
    }

    [Fact]
    public void Reads_this_process()
    {
        var status = ProcFile.TryReadText(ProcFile.SelfStatus);

        Assert.NotNull(status);
        Assert.Equal(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), ProcessStatus.Field(status, "Pid"));
        Assert.NotNull(ProcessStatus.HexMask(status, "CapBnd"));
    }
}
