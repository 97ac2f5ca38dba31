namespace Crisp.E2E.Fixtures;

/// <summary>The host's CPUs as a container sees them, whatever the test process's own affinity.</summary>
public static class HostCpus
{
    /// <summary>One "cpuN" line per online CPU in /proc/stat.</summary>
    public static int Count { get; } = File.ReadLines("/proc/stat").Count(l => l.StartsWith("cpu", StringComparison.Ordinal) && l.Length > 3 && char.IsAsciiDigit(l[3]));
}
