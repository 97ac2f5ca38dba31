using Crisp.Interop.Procfs;
using Xunit;

namespace Crisp.Interop.Tests.Procfs;

public sealed class ProcFileTests
{
    [Fact]
    public void Process_paths_use_invariant_digits() =>
        Assert.Equal("/proc/1234/net/dev", ProcFile.OfProcess(1234, "net/dev"));

    [Fact]
    public void A_missing_file_is_absent_not_an_error() =>
        Assert.Null(ProcFile.TryReadText(ProcFile.OfProcess(int.MaxValue, "stat")));

    [Fact]
    public void Reads_a_file_of_this_process() =>
        Assert.StartsWith(Environment.ProcessId + " (", ProcFile.TryReadText(ProcFile.OfProcess(Environment.ProcessId, "stat")));
}
