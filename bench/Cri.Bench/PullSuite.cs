using System.Diagnostics;
using Crisp.Cri.V1;
using Crisp.E2E.Daemon;
using Crisp.E2E.Fixtures;
using Crisp.Interop.Procfs;

namespace Crisp.Bench;

/// <summary>
/// Cold pull of the ~50 MiB "large" image from a local registry: crisp's pull + unpack over the socket against
/// skopeo's download alone and the reference runtime's pull + unpack (a fresh instance each round, so nothing is
/// cached), interleaved round by round; then the warm pull of an image already present. Beside each wall time, the
/// CPU time the puller spent (the daemon's own, or skopeo's whole process): on a shared 2-core machine the wall times
/// swing with the load, the CPU times much less, and they say what each pull costs.
/// </summary>
public sealed class PullSuite(BenchTargets targets) : IBenchSuite
{
    private const int ColdRounds = 5;
    private const int WarmCalls = 50;

    public string Name => "pull";

    public async Task<IReadOnlyList<BenchRow>> RunAsync(CancellationToken cancellationToken)
    {
        var rows = new List<BenchRow>();
        var step = new BenchStep(Name);
        RegistryFixture? registry = null;
        CrispDaemon? daemon = null;
        var skopeoDirectory = Directory.CreateTempSubdirectory("crisp-bench-skopeo-").FullName;
        try
        {
            string reference = await step.RunAsync("push the large image", async () =>
            {
                registry = await RegistryFixture.StartAsync(cancellationToken: cancellationToken);
                var image = await TestImages.Large;
                return await ImagePusher.PushAsync(image, registry, TestImageNames.Repository(TestImageNames.Large), "latest", cancellationToken);
            });
            var large = await TestImages.Large;
            daemon = await step.RunAsync("start crispd", () => CrispDaemon.StartAsync());

            var crispTimes = new List<double>();
            var skopeoTimes = new List<double>();
            var referenceTimes = new List<double>();
            var crispCpu = new List<double>();
            var skopeoCpu = new List<double>();
            var referenceCpu = new List<double>();
            string? leftoverNote = null;
            // Round 0 warms both sides up (JIT in crispd, page cache of the registry's storage) and is not counted.
            for (var round = 0; round <= ColdRounds; round++)
            {
                var current = daemon;
                var crisp = await step.RunAsync("PullImage (cold)", () => TimeAsync(current.ProcessId, () =>
                    current.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = reference } }, cancellationToken: cancellationToken).ResponseAsync));
                await step.RunAsync("RemoveImage", async () =>
                    await daemon.Images.RemoveImageAsync(new RemoveImageRequest { Image = new ImageSpec { Image = reference } }, cancellationToken: cancellationToken));
                var left = Leftovers(daemon);
                if (left.Count > 0)
                {
                    // A pull that finds blobs or snapshots is no longer cold: start from an empty root instead.
                    leftoverNote = $"RemoveImage left {left.Count} blobs/snapshots (e.g. {left[0]}); fresh crispd root per round";
                    await daemon.DisposeAsync();
                    daemon = null;
                    daemon = await step.RunAsync("restart crispd on a fresh root", () => CrispDaemon.StartAsync());
                }

                var destination = Path.Combine(skopeoDirectory, $"round{round}");
                // skopeo is a child of this process: its CPU is what this process reaped while it ran.
                var skopeo = await step.RunAsync("skopeo copy", () => TimeAsync(Environment.ProcessId, () => ToolRunner.RunCheckedAsync("skopeo",
                    ["copy", "--quiet", "--src-tls-verify=false", "--src-no-creds", "docker://" + reference, $"oci:{destination}:latest"], cancellationToken)));
                Directory.Delete(destination, recursive: true);

                Timed? referenceTime = null;
                if (targets.Reference is { } launcher)
                {
                    await using var fresh = await step.RunAsync($"start {launcher.Label}", () => launcher.StartAsync(null, cancellationToken));
                    referenceTime = await step.RunAsync($"PullImage (cold, {launcher.Label})", () => TimeAsync(fresh.ProcessId, () =>
                        fresh.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = reference } }, cancellationToken: cancellationToken).ResponseAsync));
                }

                if (round == 0) continue;
                crispTimes.Add(crisp.WallMs);
                skopeoTimes.Add(skopeo.WallMs);
                AddCpu(crispCpu, crisp);
                AddCpu(skopeoCpu, skopeo);
                if (referenceTime is { } time)
                {
                    referenceTimes.Add(time.WallMs);
                    AddCpu(referenceCpu, time);
                }
            }

            var crispMedian = Stats.Median(crispTimes);
            var skopeoMedian = Stats.Median(skopeoTimes);
            var size = Stats.MiB(large.CompressedSize);
            rows.Add(new(Name, $"cold pull {large.Layers.Count} layers, {size} (median of {ColdRounds})",
                Stats.Ms(crispMedian), Stats.Ms(skopeoMedian) + " skopeo", Stats.Ratio(crispMedian, skopeoMedian),
                Join("crisp pull+unpack vs skopeo download only; goal <= 1.00x", leftoverNote)));
            rows.Add(new(Name, "cold pull min / max", $"{Stats.Ms(crispTimes.Min())} / {Stats.Ms(crispTimes.Max())}",
                $"{Stats.Ms(skopeoTimes.Min())} / {Stats.Ms(skopeoTimes.Max())}"));
            if (referenceTimes.Count > 0)
            {
                var referenceMedian = Stats.Median(referenceTimes);
                rows.Add(new(Name, $"cold pull + unpack / skopeo download alone (medians of {ColdRounds})",
                    Stats.Ratio(crispMedian, skopeoMedian), $"{Stats.Ratio(referenceMedian, skopeoMedian)} {targets.Reference!.Label}",
                    Note: $"{targets.Reference.Label} pull+unpack median {Stats.Ms(referenceMedian)}, fresh instance per round; goal <= 1.00x"));
            }
            else
            {
                rows.Add(new(Name, "cold pull + unpack / skopeo download alone", Stats.Ratio(crispMedian, skopeoMedian), "n/a",
                    Note: $"reference: not available ({targets.ReferenceUnavailable})"));
            }

            rows.Add(new(Name, $"CPU per cold pull (median of {ColdRounds})",
                CpuCell(crispCpu), targets.Reference is null ? "n/a" : CpuCell(referenceCpu), Note:
                $"skopeo copy {CpuCell(skopeoCpu)} (its whole process); the registry's CPU is not counted; {DecompressionNote()}"));

            // The first pull fetches the image again; the next few warm the present-image path.
            await step.RunAsync("PullImage (warm-up)", () => Stats.TimeAsync(6, async () =>
                await daemon.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = reference } }, cancellationToken: cancellationToken)));
            var warm = await step.RunAsync("PullImage (warm)", () => Stats.TimeAsync(WarmCalls, async () =>
                await daemon.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = reference } }, cancellationToken: cancellationToken)));
            rows.Add(new(Name, $"warm pull (image present) median / p90 of {WarmCalls}",
                $"{Stats.Ms(Stats.Median(warm))} / {Stats.Ms(Stats.Percentile(warm, 0.9))}", Note: "goal < 5 ms median"));
            await step.RunAsync("RemoveImage", async () =>
                await daemon.Images.RemoveImageAsync(new RemoveImageRequest { Image = new ImageSpec { Image = reference } }, cancellationToken: cancellationToken));
        }
        catch (BenchStepException e)
        {
            rows.Add(e.ToRow());
        }
        finally
        {
            if (daemon is not null) await daemon.DisposeAsync();
            if (registry is not null) await registry.DisposeAsync();
            Directory.Delete(skopeoDirectory, recursive: true);
        }
        return rows;
    }

    /// <summary>A wall time, and the CPU time the measured process spent meanwhile (null when it could not be read).</summary>
    private readonly record struct Timed(double WallMs, double? CpuMs);

    /// <param name="pid">The process whose CPU time is counted: a daemon, or this process for the children it reaps.</param>
    private static async Task<Timed> TimeAsync(int? pid, Func<Task> action)
    {
        var before = pid is { } id ? ProcessStat.TryRead(id) : null;
        var started = Stopwatch.GetTimestamp();
        await action();
        var wall = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        var after = pid is { } again ? ProcessStat.TryRead(again) : null;
        if (before is not { } b || after is not { } a) return new Timed(wall, null);
        var cpu = pid == Environment.ProcessId ? a.ReapedChildrenCpuTime - b.ReapedChildrenCpuTime : a.CpuTime - b.CpuTime;
        return new Timed(wall, cpu.TotalMilliseconds);
    }

    private static void AddCpu(List<double> samples, Timed timed)
    {
        if (timed.CpuMs is { } cpu) samples.Add(cpu);
    }

    private static string CpuCell(List<double> samples) =>
        samples.Count == 0 ? "n/a" : $"{Stats.Ms(Stats.Median(samples))} CPU";

    // containerd inflates gzip layers with Go's compress/flate unless unpigz is on its PATH (then in a child process
    // this row does not count); Debian's containerd does not pull pigz in.
    private static string DecompressionNote() =>
        Environment.GetEnvironmentVariable("PATH")?.Split(':').Any(dir => File.Exists(Path.Combine(dir, "unpigz"))) == true
            ? "unpigz is on PATH: containerd inflates in unpigz, whose CPU is not counted"
            : "no unpigz on PATH: containerd inflates with Go's compress/flate";

    /// <summary>Blobs and unpacked snapshots still in crisp's image root.</summary>
    private static List<string> Leftovers(CrispDaemon daemon)
    {
        var imagesRoot = Path.Combine(daemon.RootDirectory, "images");
        var left = new List<string>();
        var blobs = Path.Combine(imagesRoot, "content", "sha256");
        if (Directory.Exists(blobs)) left.AddRange(Directory.EnumerateFileSystemEntries(blobs));
        var snapshots = Path.Combine(imagesRoot, "snapshots");
        if (Directory.Exists(snapshots)) left.AddRange(Directory.EnumerateDirectories(snapshots).Where(d => Path.GetFileName(d) != ".ingest"));
        return left;
    }

    private static string Join(string note, string? extra) => extra is null ? note : $"{note}; {extra}";
}
