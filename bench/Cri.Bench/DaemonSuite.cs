using Crisp.Cri.V1;
using Crisp.E2E.Daemon;

namespace Crisp.Bench;

/// <summary>The daemon's own floor: start time, RPC round trip and idle memory.</summary>
public sealed class DaemonSuite : IBenchSuite
{
    public string Name => "daemon";

    public async Task<IReadOnlyList<BenchRow>> RunAsync(CancellationToken cancellationToken)
    {
        var startTimes = new List<double>();
        for (var i = 0; i < 3; i++)
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            await using var probe = await CrispDaemon.StartAsync();
            startTimes.Add(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        await using var daemon = await CrispDaemon.StartAsync();
        await Stats.TimeAsync(50, async () => await daemon.Runtime.VersionAsync(new VersionRequest()));
        var version = await Stats.TimeAsync(500, async () => await daemon.Runtime.VersionAsync(new VersionRequest()));
        var status = await Stats.TimeAsync(200, async () => await daemon.Runtime.StatusAsync(new StatusRequest()));
        await Task.Delay(1000, cancellationToken);
        var rss = Stats.RssBytes(daemon.ProcessId!.Value);

        return
        [
            new(Name, "start to first answer (median of 3)", Stats.Ms(Stats.Median(startTimes))),
            new(Name, "Version round trip median / p90", $"{Stats.Ms(Stats.Median(version))} / {Stats.Ms(Stats.Percentile(version, 0.9))}"),
            new(Name, "Status round trip median / p90", $"{Stats.Ms(Stats.Median(status))} / {Stats.Ms(Stats.Percentile(status, 0.9))}"),
            new(Name, "crispd RSS idle", Stats.MiB(rss)),
        ];
    }
}
