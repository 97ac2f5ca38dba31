using System.Globalization;
using Crisp.Cri.V1;
using Crisp.Interop.Procfs;

namespace Crisp.Runtime.Stats;

/// <summary>
/// A pod's network counters as the kubelet's summary API wants them: every interface of the pod's network
/// namespace but loopback, eth0 (the CNI interface) as the default. Read from /proc/&lt;pid&gt;/net/dev of a
/// process inside that namespace, which needs no namespace switch.
/// </summary>
public static class PodNetworkUsage
{
    public static NetworkUsage? Read(int pidInPodNamespace, string defaultInterface, long timestamp)
    {
        return ProcFile.TryReadText(ProcFile.OfProcess(pidInPodNamespace, "net/dev")) is { } text
            ? Parse(text, defaultInterface, timestamp)
            : null;
    }

    /// <summary>Parses /proc/net/dev: after "name:", receive bytes/packets/errs/... (8 fields), then transmit (8 fields).</summary>
    public static NetworkUsage Parse(string procNetDev, string defaultInterface, long timestamp)
    {
        var usage = new NetworkUsage { Timestamp = timestamp };
        foreach (var line in procNetDev.Split('\n'))
        {
            var colon = line.IndexOf(':');
            if (colon < 0) continue;
            var name = line[..colon].Trim();
            if (name.Length == 0 || name == "lo") continue;
            var fields = line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 16 || !TryParse(fields, out var rxBytes, out var rxErrors, out var txBytes, out var txErrors)) continue;
            var iface = new NetworkInterfaceUsage
            {
                Name = name,
                RxBytes = new UInt64Value { Value = rxBytes },
                RxErrors = new UInt64Value { Value = rxErrors },
                TxBytes = new UInt64Value { Value = txBytes },
                TxErrors = new UInt64Value { Value = txErrors },
            };
            usage.Interfaces.Add(iface);
            if (name == defaultInterface) usage.DefaultInterface = iface;
        }
        return usage;
    }

    private static bool TryParse(string[] fields, out ulong rxBytes, out ulong rxErrors, out ulong txBytes, out ulong txErrors)
    {
        rxErrors = txBytes = txErrors = 0;
        return ulong.TryParse(fields[0], CultureInfo.InvariantCulture, out rxBytes)
            && ulong.TryParse(fields[2], CultureInfo.InvariantCulture, out rxErrors)
            && ulong.TryParse(fields[8], CultureInfo.InvariantCulture, out txBytes)
            && ulong.TryParse(fields[10], CultureInfo.InvariantCulture, out txErrors);
    }
}
