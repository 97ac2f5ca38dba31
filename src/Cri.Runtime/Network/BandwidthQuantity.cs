using System.Globalization;
using Crisp.Runtime.Api;

namespace Crisp.Runtime.Network;

/// <summary>
/// Parses the Kubernetes resource quantities of the kubernetes.io/ingress-bandwidth and egress-bandwidth pod
/// annotations ("10M", "1Gi", "500k", "1e6") into bits per second, the unit the CNI bandwidth capability takes.
/// </summary>
public static class BandwidthQuantity
{
    public const string IngressAnnotation = "kubernetes.io/ingress-bandwidth";
    public const string EgressAnnotation = "kubernetes.io/egress-bandwidth";

    private static readonly (string Suffix, decimal Factor)[] Suffixes =
    [
        ("Ki", 1L << 10), ("Mi", 1L << 20), ("Gi", 1L << 30), ("Ti", 1L << 40), ("Pi", 1L << 50), ("Ei", 1L << 60),
        ("k", 1e3m), ("M", 1e6m), ("G", 1e9m), ("T", 1e12m), ("P", 1e15m), ("E", 1e18m), ("m", 1e-3m),
    ];

    /// <summary>Bits per second; throws InvalidArgument naming the annotation when the value is not a positive quantity.</summary>
    public static ulong ParseBitsPerSecond(string annotation, string value)
    {
        var text = value.Trim();
        decimal factor = 1;
        foreach (var (suffix, f) in Suffixes)
        {
            if (text.EndsWith(suffix, StringComparison.Ordinal))
            {
                factor = f;
                text = text[..^suffix.Length];
                break;
            }
        }
        if (!double.TryParse(text, NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out var number)
            || double.IsNaN(number) || double.IsInfinity(number))
            throw InvalidAnnotation(annotation, value);
        decimal bits;
        try { bits = decimal.Ceiling((decimal)number * factor); }
        catch (OverflowException) { throw InvalidAnnotation(annotation, value); }
        if (bits <= 0 || bits > ulong.MaxValue) throw InvalidAnnotation(annotation, value);
        return (ulong)bits;
    }

    private static RuntimeException InvalidAnnotation(string annotation, string value) =>
        RuntimeException.InvalidField($"config.annotations[{annotation}]", $"\"{value}\" is not a positive bandwidth quantity (e.g. 10M, 1Gi)");
}
