using System.Globalization;
using Crisp.Cri.V1;
using Crisp.Interop.Procfs;
using Crisp.Runtime.Api;
using Crisp.Runtime.Namespaces;
using Crisp.Runtime.State;

namespace Crisp.Runtime.Stats;

/// <summary>
/// A pod's network counters as the kubelet's summary API wants them: every interface of the pod's network
/// namespace but loopback, eth0 (the CNI interface) as the default. Read from the pinned namespace itself
/// (/proc/thread-self/net/dev on a thread that joined it), so they are there whether or not a container of the pod
/// is running.
/// </summary>
public static class PodNetworkUsage
{
    public static Task<NetworkUsage> ReadAsync(string podSandboxId, string networkNamespacePath, string defaultInterface) =>
        NetworkNamespaceThread.RunAsync(networkNamespacePath, $"network stats of pod sandbox {podSandboxId}", () =>
        {
            var timestamp = UnixNanos.Now();
            var text = ProcFile.TryReadText("/proc/thread-self/net/dev")
                ?? throw new RuntimeException(RuntimeErrorKind.Internal,
                    $"network stats of pod sandbox {podSandboxId}: /proc/thread-self/net/dev cannot be read in its network namespace");
            return Parse(text, defaultInterface, timestamp);
        });

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
