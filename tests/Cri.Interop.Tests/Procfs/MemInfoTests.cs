using Crisp.Interop.Procfs;
using Xunit;

namespace Crisp.Interop.Tests.Procfs;

public sealed class MemInfoTests
{
    private const string Text = "MemTotal:       24614428 kB\nSwapTotal:       2097148 kB\nSwapFree:        1048576 kB\nHugePages_Total:       0\n";

    [Fact]
    public void Kilobyte_fields_are_read_in_bytes()
    {
        Assert.Equal(1048576UL * 1024, MemInfo.Bytes(Text, "SwapFree"));
        Assert.Equal(0UL, MemInfo.Bytes(Text, "HugePages_Total"));
        Assert.Null(MemInfo.Bytes(Text, "Swap"));
        Assert.Null(MemInfo.Bytes(Text, "Missing"));
    }

    [Fact]
    public void This_hosts_free_swap_is_readable() => Assert.NotNull(MemInfo.SwapFreeBytes());
}
