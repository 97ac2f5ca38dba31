using Crisp.Cri.V1;

namespace Crisp.Bench;

/// <summary>
/// The daemon's own floor on an empty state, for the measured runtime and the reference alike: start to socket
/// answering, RPC round trips and memory freshly started and idle.
/// </summary>
public sealed class DaemonSuite(BenchTargets targets) : IBenchSuite
{
    private const int Starts = 3;

    public string Name => "daemon";

    public bool MeasuresAnyRuntime => true;

    public Task<IReadOnlyList<BenchRow>> RunAsync(CancellationToken cancellationToken) =>
        new SideBySide(Name, targets).RunAsync(MeasureAsync, cancellationToken);

    private static async Task MeasureAsync(ICriTargetLauncher launcher, BenchStep step, List<Measurement> readings, CancellationToken cancellationToken)
    {
        if (launcher.StartsFresh)
        {
            var startTimes = new List<double>();
            for (var i = 0; i < Starts; i++)
            {
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                await using var probe = await step.RunAsync("start on an empty state", () => launcher.StartAsync(null, cancellationToken));
                startTimes.Add(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
            readings.Add(new($"start to socket answering, empty state (median of {Starts})", Stats.Ms(Stats.Median(startTimes)), Stats.Median(startTimes),
                $"min {Stats.Ms(startTimes.Min())}, max {Stats.Ms(startTimes.Max())}", "goal <= 150 ms"));
        }
        else
        {
            readings.Add(new($"start to socket answering, empty state (median of {Starts})", "n/a", Detail: "--endpoint: the bench did not start it"));
        }

        await using var target = await step.RunAsync("start", () => launcher.StartAsync(null, cancellationToken));
        // Read before any RPC beyond the probe's Version: the footprint of a daemon that has just come up.
        await Task.Delay(1000, cancellationToken);
        AddRss(readings, target, "daemon RSS, freshly started, idle", "goal <= 30 MiB");

        await Stats.TimeAsync(50, async () => await target.Runtime.VersionAsync(new VersionRequest(), cancellationToken: cancellationToken));
        var version = await step.RunAsync("Version", () => Stats.TimeAsync(500, async () => await target.Runtime.VersionAsync(new VersionRequest(), cancellationToken: cancellationToken)));
        var status = await step.RunAsync("Status", () => Stats.TimeAsync(200, async () => await target.Runtime.StatusAsync(new StatusRequest(), cancellationToken: cancellationToken)));
        readings.Add(new("Version round trip median / p90", Stats.MedianP90(version), Stats.Median(version)));
        readings.Add(new("Status round trip median / p90", Stats.MedianP90(status), Stats.Median(status)));
    }

    /// <summary>The daemon process's RSS (not its shims' or conmons'), with what it consists of.</summary>
    public static void AddRss(List<Measurement> readings, CriTarget target, string measure, string goal)
    {
        if (target.ProcessId is not { } pid)
        {
            readings.Add(new(measure, "?", Detail: $"no process found serving {target.Label}", Goal: goal));
            return;
        }
        var rss = Stats.RssBytes(pid);
        readings.Add(new(measure, Stats.MiB(rss), rss, Stats.RssBreakdown(pid), goal));
    }
}
