using Xunit;
using Crisp.Cri.V1;
using Crisp.Runtime.Api;
using Crisp.Runtime.Containers;

namespace Crisp.Runtime.Tests.Containers;

public sealed class ResourceValidatorTests
{
    [Fact]
    public void Accepts_ordinary_resources()
    {
        ResourceValidator.Validate(new LinuxContainerResources { CpuShares = 512, CpuPeriod = 100000, CpuQuota = 50000, MemoryLimitInBytes = 64 << 20 }, "linux");
        ResourceValidator.Validate(new LinuxContainerResources(), "linux");
    }

    [Theory]
    [InlineData("cpu_shares")]
    [InlineData("cpu_period")]
    [InlineData("cpu_quota")]
    [InlineData("memory_limit_in_bytes")]
    [InlineData("oom_score_adj")]
    public void Refuses_absurd_values_naming_the_field(string field)
    {
        var r = field switch
        {
            "cpu_shares" => new LinuxContainerResources { CpuShares = 10_000_000 },
            "cpu_period" => new LinuxContainerResources { CpuPeriod = 5 },
            "cpu_quota" => new LinuxContainerResources { CpuQuota = 10 },
            "memory_limit_in_bytes" => new LinuxContainerResources { MemoryLimitInBytes = -5 },
            _ => new LinuxContainerResources { OomScoreAdj = 5000 },
        };
        var ex = Assert.Throws<RuntimeException>(() => ResourceValidator.Validate(r, "linux"));
        Assert.Equal(RuntimeErrorKind.InvalidArgument, ex.Kind);
        Assert.Contains("linux." + field, ex.Message);
    }
}
