using Xunit;
using Crisp.Cri.V1;
using Crisp.Runtime.Stats;

namespace Crisp.Runtime.Tests.Stats;

public sealed class MetricDescriptorsTests
{
    [Fact]
    public void Descriptors_are_unique_documented_and_labelled()
    {
        var names = MetricDescriptors.All.Select(d => d.Name).ToList();
        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.All(MetricDescriptors.All, d =>
        {
            Assert.StartsWith("container_", d.Name);
            Assert.False(string.IsNullOrWhiteSpace(d.Help));
            Assert.Equal(MetricDescriptors.LabelKeys, d.LabelKeys);
        });
        Assert.Equal(MetricType.Counter, MetricDescriptors.TypeOf(MetricDescriptors.CpuUsageSecondsTotal));
        Assert.Equal(MetricType.Gauge, MetricDescriptors.TypeOf(MetricDescriptors.MemoryWorkingSetBytes));
    }
}
