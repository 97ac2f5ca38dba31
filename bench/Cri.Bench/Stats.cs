using System.Diagnostics;
using System.Globalization;

namespace Crisp.Bench;

/// <summary>Medians and percentiles of repeated timings, and process memory readings.</summary>
public static class Stats
{
    public static double Percentile(IReadOnlyList<double> samples, double p)
    {
        var sorted = samples.Order().ToArray();
        if (sorted.Length == 0) return double.NaN;
        var rank = p * (sorted.Length - 1);
        var low = (int)Math.Floor(rank);
        var high = (int)Math.Ceiling(rank);
        return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
    }

    public static double Median(IReadOnlyList<double> samples) => Percentile(samples, 0.5);

    public static async Task<List<double>> TimeAsync(int rounds, Func<Task> action)
    {
        var samples = new List<double>(rounds);
        for (var i = 0; i < rounds; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await action();
            samples.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        return samples;
    }

    public static string MedianP90(IReadOnlyList<double> samples) => $"{Ms(Median(samples))} / {Ms(Percentile(samples, 0.9))}";

    public static string Ms(double value) => value.ToString("F2", CultureInfo.InvariantCulture) + " ms";

    public static string Ratio(double crisp, double reference) =>
        reference > 0 ? (crisp / reference).ToString("F2", CultureInfo.InvariantCulture) + "x" : "";

    /// <summary>Resident set size of a process, from /proc/PID/status.</summary>
    public static long RssBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        return 0;
    }

    /// <summary>
    /// What the resident set consists of, from /proc/PID/smaps_rollup: anonymous memory (heap, stacks) and file
    /// pages (the binary's code, mapped libraries), e.g. "anon 20.1 MiB + file 26.0 MiB".
    /// </summary>
    public static string RssBreakdown(int pid)
    {
        long rss = 0, anonymous = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/smaps_rollup"))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 2) continue;
            if (fields[0] == "Rss:") rss = long.Parse(fields[1], CultureInfo.InvariantCulture) * 1024;
            else if (fields[0] == "Anonymous:") anonymous = long.Parse(fields[1], CultureInfo.InvariantCulture) * 1024;
        }
        return $"anon {MiB(anonymous)} + file {MiB(rss - anonymous)}";
    }

    public static string MiB(long bytes) => (bytes / 1048576.0).ToString("F1", CultureInfo.InvariantCulture) + " MiB";
}
