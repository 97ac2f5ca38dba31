using Crisp.Runtime.Api;
using Crisp.Runtime.Network;
using Xunit;

namespace Crisp.Runtime.Tests.Network;

public sealed class BandwidthQuantityTests
{
    [Theory]
    [InlineData("10M", 10_000_000UL)]
    [InlineData("1Gi", 1_073_741_824UL)]
    [InlineData("500k", 500_000UL)]
    [InlineData("1e6", 1_000_000UL)]
    [InlineData("1E6", 1_000_000UL)]
    [InlineData("1.5M", 1_500_000UL)]
    [InlineData("100Mi", 104_857_600UL)]
    [InlineData("2Ki", 2048UL)]
    [InlineData("1G", 1_000_000_000UL)]
    [InlineData("1T", 1_000_000_000_000UL)]
    [InlineData("12345", 12_345UL)]
    [InlineData(" 10M ", 10_000_000UL)]
    [InlineData("1500m", 2UL)]
    public void Quantities_become_bits_per_second(string value, ulong expected)
    {
        Assert.Equal(expected, BandwidthQuantity.ParseBitsPerSecond(BandwidthQuantity.IngressAnnotation, value));
    }

    [Theory]
    [InlineData("")]
    [InlineData("fast")]
    [InlineData("10 M")]
    [InlineData("10MB")]
    [InlineData("M")]
    [InlineData("1,5M")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("1e400")]
    [InlineData("100E")]
    public void Invalid_values_are_refused_naming_the_annotation(string value)
    {
        var e = Assert.Throws<RuntimeException>(() => BandwidthQuantity.ParseBitsPerSecond(BandwidthQuantity.EgressAnnotation, value));

        Assert.Equal(RuntimeErrorKind.InvalidArgument, e.Kind);
        Assert.Contains("kubernetes.io/egress-bandwidth", e.Message);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("0M")]
    [InlineData("-1M")]
    [InlineData("-5")]
    public void Zero_and_negative_are_refused(string value)
    {
        var e = Assert.Throws<RuntimeException>(() => BandwidthQuantity.ParseBitsPerSecond(BandwidthQuantity.IngressAnnotation, value));

        Assert.Equal(RuntimeErrorKind.InvalidArgument, e.Kind);
        Assert.Contains("kubernetes.io/ingress-bandwidth", e.Message);
        Assert.Contains(value, e.Message);
    }
}
