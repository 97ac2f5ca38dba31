using System.Diagnostics;
using System.Globalization;
using Crisp.Cri.V1;
using Crisp.E2E.Fixtures;

namespace Crisp.Bench;

/// <summary>
/// The node-scale rows of the footprint table, taken the same way on the measured runtime and on the reference:
/// memory after pods came and went, ExecSync and RemoveContainer latency over the socket, ContainerStats of a
/// container whose writable layer holds 100,000 files, and one pod of many created containers: the create rate, then
/// a kill -9 and the time until the socket answers again and ListContainers is correct.
/// </summary>
public sealed class WorkloadSuite(BenchTargets targets, BenchOptions options) : IBenchSuite
{
    // Per bench process: two benches at once (crisp's and a branch's) must not share or remove each other's cgroups.
    private static readonly string CgroupParent = $"/crisp-bench-workload-{Environment.ProcessId}";
    private const int ExecRounds = 30;
    private const int RemoveRounds = 20;
    private const int StatsCalls = 50;
    private const int LayerFiles = 100_000;
    private static readonly TimeSpan FillTimeout = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan StatsSettleTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan RecoveryTimeout = TimeSpan.FromMinutes(3);

    public string Name => "workload";

    public bool MeasuresAnyRuntime => true;

    public async Task<IReadOnlyList<BenchRow>> RunAsync(CancellationToken cancellationToken)
    {
        var step = new BenchStep(Name);
        RegistryFixture? registry = null;
        var layouts = Directory.CreateTempSubdirectory($"crisp-bench-pause-{Environment.ProcessId}-").FullName;
        try
        {
            var (busybox, pause) = await step.RunAsync("push busybox and the pause image", async () =>
            {
                registry = await RegistryFixture.StartAsync(cancellationToken: cancellationToken);
                var busyboxReference = await ImagePusher.PushAsync(await TestImages.Busybox, registry, TestImageNames.Repository(TestImageNames.Busybox), "latest", cancellationToken);
                // containerd runs a pause container per pod; crisp needs none. busybox's sleep stands in for pause.
                var pauseImage = await new OciImageBuilder(new ImageConfigSpec { Cmd = ["sleep", "2147483647"] })
                    .AddLayer(StandardImageRecipes.BaseLayer)
                    .WriteLayoutAsync(layouts, "latest", "pause", cancellationToken);
                var pauseReference = await ImagePusher.PushAsync(pauseImage, registry, "crisp-bench/pause", "latest", cancellationToken);
                return (busyboxReference, pauseReference);
            });
            return await new SideBySide(Name, targets).RunAsync(
                (launcher, sideStep, readings, ct) => MeasureAsync(launcher, sideStep, readings, busybox, pause, ct), cancellationToken);
        }
        catch (BenchStepException e)
        {
            return [e.ToRow()];
        }
        finally
        {
            if (registry is not null) await registry.DisposeAsync();
            Directory.Delete(layouts, recursive: true);
        }
    }

    private async Task MeasureAsync(ICriTargetLauncher launcher, BenchStep step, List<Measurement> readings, string busybox, string pause, CancellationToken cancellationToken)
    {
        var target = await step.RunAsync("start", () => launcher.StartAsync(pause, cancellationToken));
        try
        {
            await step.RunAsync("PullImage busybox", async () =>
                await target.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = busybox } }, cancellationToken: cancellationToken));
            var pods = new PodRequests(target, busybox, CgroupParent);
            await ChurnAsync(target, pods, step, readings, cancellationToken);
            await ExecSyncAsync(target, pods, step, readings, cancellationToken);
            await RemoveContainerAsync(target, pods, step, readings, cancellationToken);
            await ContainerStatsAsync(target, pods, step, readings, cancellationToken);
            await ContainersInStateAsync(target, pods, step, readings, cancellationToken);
        }
        finally
        {
            if (target.ProcessId is not null && await PodCleanup.RemoveAllReportingAsync(Name, target.Runtime) is { } failure)
                readings.Add(new("FAILED", "", Detail: failure.Note));
            await target.DisposeAsync();
            var leftCgroups = CgroupCleanup.RemoveTree(CgroupParent);
            if (leftCgroups.Count > 0)
                readings.Add(new("FAILED", "", Detail: $"cgroups still populated after cleanup: {string.Join(", ", leftCgroups.Take(3))}"));
        }
    }

    /// <summary>Pods come and go one after another, each with one started container, as a node's churn; RSS halfway and at the end.</summary>
    private async Task ChurnAsync(CriTarget target, PodRequests pods, BenchStep step, List<Measurement> readings, CancellationToken cancellationToken)
    {
        var total = options.ChurnPods;
        var half = Math.Max(1, total / 2);
        long? halfwayRss = null;
        for (var i = 1; i <= total; i++)
        {
            var (podId, pod) = await step.RunAsync($"RunPodSandbox (churn {i} of {total})", () => pods.RunPodAsync($"churn-{i}", cancellationToken));
            var containerId = await step.RunAsync($"CreateContainer (churn {i})", () => pods.CreateContainerAsync(podId, pod, cancellationToken));
            await step.RunAsync($"StartContainer (churn {i})", async () =>
                await target.Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = containerId }, cancellationToken: cancellationToken));
            await step.RunAsync($"StopContainer (churn {i})", async () =>
                await target.Runtime.StopContainerAsync(new StopContainerRequest { ContainerId = containerId, Timeout = 0 }, cancellationToken: cancellationToken));
            await step.RunAsync($"RemoveContainer (churn {i})", async () =>
                await target.Runtime.RemoveContainerAsync(new RemoveContainerRequest { ContainerId = containerId }, cancellationToken: cancellationToken));
            await step.RunAsync($"StopPodSandbox (churn {i})", async () =>
                await target.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId }, cancellationToken: cancellationToken));
            await step.RunAsync($"RemovePodSandbox (churn {i})", async () =>
                await target.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId }, cancellationToken: cancellationToken));
            if (i != half && i != total) continue;
            // Let the daemon's background work (GC, exit handling) settle, as an idle node's would.
            await Task.Delay(1000, cancellationToken);
            var measure = $"daemon RSS after {i} pods came and went";
            DaemonSuite.AddRss(readings, target, measure, "goal <= 45 MiB, flat");
            if (i == half) halfwayRss = (long?)readings[^1].Number;
            else if (halfwayRss is { } before && readings[^1].Number is { } after)
                readings[^1] = readings[^1] with { Detail = $"+{Stats.MiB((long)after - before)} over the last {total - half} pods; {readings[^1].Detail}" };
        }
    }

    private static async Task ExecSyncAsync(CriTarget target, PodRequests pods, BenchStep step, List<Measurement> readings, CancellationToken cancellationToken)
    {
        var (podId, pod) = await step.RunAsync("RunPodSandbox (exec)", () => pods.RunPodAsync("exec", cancellationToken));
        var containerId = await step.RunAsync("CreateContainer (exec)", () => pods.CreateContainerAsync(podId, pod, cancellationToken));
        await step.RunAsync("StartContainer (exec)", async () =>
            await target.Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = containerId }, cancellationToken: cancellationToken));
        async Task ExecTrue()
        {
            var exec = await target.Runtime.ExecSyncAsync(new ExecSyncRequest { ContainerId = containerId, Cmd = { "true" }, Timeout = 10 }, cancellationToken: cancellationToken);
            if (exec.ExitCode != 0) throw new InvalidOperationException($"`true` exited {exec.ExitCode}: {exec.Stderr.ToStringUtf8()}");
        }
        await step.RunAsync("ExecSync (warm-up)", () => Stats.TimeAsync(5, ExecTrue));
        var times = await step.RunAsync("ExecSync", () => Stats.TimeAsync(ExecRounds, ExecTrue));
        readings.Add(new($"ExecSync `true` median / p90 ({ExecRounds})", Stats.MedianP90(times), Stats.Median(times),
            Goal: "gRPC over the socket, no crictl; goal <= 0.70x containerd's"));
        await RemovePodAsync(target, step, podId, "exec", cancellationToken);
    }

    /// <summary>As critest's container benchmark: each container is created, started and stopped, then its removal timed.</summary>
    private static async Task RemoveContainerAsync(CriTarget target, PodRequests pods, BenchStep step, List<Measurement> readings, CancellationToken cancellationToken)
    {
        var (podId, pod) = await step.RunAsync("RunPodSandbox (remove)", () => pods.RunPodAsync("remove", cancellationToken));
        var times = new List<double>();
        // Round 0 warms up and is not counted.
        for (var round = 0; round <= RemoveRounds; round++)
        {
            var containerId = await step.RunAsync($"CreateContainer (remove {round})", () => pods.CreateContainerAsync(podId, pod, pods.ContainerConfig($"app-{round}"), cancellationToken));
            await step.RunAsync($"StartContainer (remove {round})", async () =>
                await target.Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = containerId }, cancellationToken: cancellationToken));
            await step.RunAsync($"StopContainer (remove {round})", async () =>
                await target.Runtime.StopContainerAsync(new StopContainerRequest { ContainerId = containerId, Timeout = 0 }, cancellationToken: cancellationToken));
            var started = Stopwatch.GetTimestamp();
            await step.RunAsync($"RemoveContainer (remove {round})", async () =>
                await target.Runtime.RemoveContainerAsync(new RemoveContainerRequest { ContainerId = containerId }, cancellationToken: cancellationToken));
            if (round > 0) times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        readings.Add(new($"RemoveContainer of a stopped container median / p90 ({RemoveRounds})", Stats.MedianP90(times), Stats.Median(times), Goal: "goal <= containerd's"));
        await RemovePodAsync(target, step, podId, "remove", cancellationToken);
    }

    /// <summary>Issue 11: stats must not walk a large writable layer on the caller's time.</summary>
    private static async Task ContainerStatsAsync(CriTarget target, PodRequests pods, BenchStep step, List<Measurement> readings, CancellationToken cancellationToken)
    {
        var (podId, pod) = await step.RunAsync("RunPodSandbox (stats)", () => pods.RunPodAsync("stats", cancellationToken));
        var config = pods.ContainerConfig("many-files");
        config.Command.Clear();
        config.Command.AddRange(["sh", "-c",
            $"mkdir /many && cd /many && i=0 && while [ $i -lt {LayerFiles} ]; do : > f$i; i=$((i+1)); done; : > /filled; exec sleep 3600"]);
        var containerId = await step.RunAsync("CreateContainer (stats)", () => pods.CreateContainerAsync(podId, pod, config, cancellationToken));
        await step.RunAsync("StartContainer (stats)", async () =>
            await target.Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = containerId }, cancellationToken: cancellationToken));
        await step.RunAsync($"write {LayerFiles} files in the writable layer", async () =>
        {
            var deadline = DateTime.UtcNow + FillTimeout;
            while (true)
            {
                var probe = await target.Runtime.ExecSyncAsync(new ExecSyncRequest { ContainerId = containerId, Cmd = { "test", "-f", "/filled" }, Timeout = 10 }, cancellationToken: cancellationToken);
                if (probe.ExitCode == 0) return;
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"the container did not write {LayerFiles} files within {FillTimeout}");
                await Task.Delay(1000, cancellationToken);
            }
        });

        // Both runtimes measure the layer in the background; wait until the report shows the files, then time the calls.
        var settled = Stopwatch.GetTimestamp();
        ContainerStats? stats;
        do
        {
            stats = (await step.RunAsync("ContainerStats (settle)", async () =>
                await target.Runtime.ContainerStatsAsync(new ContainerStatsRequest { ContainerId = containerId }, cancellationToken: cancellationToken))).Stats;
            if (stats.WritableLayer?.InodesUsed?.Value >= LayerFiles) break;
            await Task.Delay(500, cancellationToken);
        }
        while (Stopwatch.GetElapsedTime(settled) < StatsSettleTimeout);
        var settleSeconds = Stopwatch.GetElapsedTime(settled).TotalSeconds;

        var times = await step.RunAsync("ContainerStats", () => Stats.TimeAsync(StatsCalls, async () =>
            await target.Runtime.ContainerStatsAsync(new ContainerStatsRequest { ContainerId = containerId }, cancellationToken: cancellationToken)));
        var inodes = stats?.WritableLayer?.InodesUsed?.Value;
        var bytes = stats?.WritableLayer?.UsedBytes?.Value;
        readings.Add(new($"ContainerStats, {LayerFiles:N0} files in the writable layer, median / p90 ({StatsCalls})", Stats.MedianP90(times), Stats.Median(times),
            $"layer reported {inodes?.ToString(CultureInfo.InvariantCulture) ?? "no"} inodes, {(bytes is { } b ? Stats.MiB((long)b) : "no size")} after {settleSeconds.ToString("F1", CultureInfo.InvariantCulture)} s", "goal < 5 ms"));
        await RemovePodAsync(target, step, podId, "stats", cancellationToken);
    }

    /// <summary>One pod of many created containers: the create rate, then kill -9 and start on that state.</summary>
    private async Task ContainersInStateAsync(CriTarget target, PodRequests pods, BenchStep step, List<Measurement> readings, CancellationToken cancellationToken)
    {
        var count = options.StateContainers;
        var (podId, pod) = await step.RunAsync("RunPodSandbox (state)", () => pods.RunPodAsync("state", cancellationToken));
        var created = Stopwatch.GetTimestamp();
        for (var i = 0; i < count; i++)
        {
            var config = pods.ContainerConfig($"app-{i}");
            await step.RunAsync($"CreateContainer {i + 1} of {count}", () => pods.CreateContainerAsync(podId, pod, config, cancellationToken));
        }
        var createSeconds = Stopwatch.GetElapsedTime(created).TotalSeconds;
        var rate = count / createSeconds;
        readings.Add(new($"CreateContainer rate, one pod of {count} containers", rate.ToString("F1", CultureInfo.InvariantCulture) + "/s", rate,
            $"{createSeconds.ToString("F1", CultureInfo.InvariantCulture)} s in all", "goal >= 20/s"));

        var socketMeasure = $"kill -9, start to socket answering, {count} containers in state";
        var listMeasure = $"kill -9, start to a correct ListContainers, {count} containers in state";
        if (!target.CanRestart)
        {
            readings.Add(new(socketMeasure, "n/a", Detail: "--endpoint: the bench does not kill a runtime it did not start"));
        }
        else
        {
            await step.RunAsync("kill -9", () => target.KillAsync());
            var restarted = Stopwatch.GetTimestamp();
            await step.RunAsync("restart", () => target.RestartAsync());
            var serving = Stopwatch.GetElapsedTime(restarted).TotalSeconds;
            var lastSeen = "";
            await step.RunAsync("ListContainers after the restart", async () =>
            {
                var deadline = DateTime.UtcNow + RecoveryTimeout;
                while (true)
                {
                    var listed = await target.Runtime.ListContainersAsync(new ListContainersRequest(), cancellationToken: cancellationToken);
                    var createdNow = listed.Containers.Count(c => c.State == ContainerState.ContainerCreated);
                    if (listed.Containers.Count == count && createdNow == count) return;
                    lastSeen = $"{listed.Containers.Count} containers, {createdNow} CREATED";
                    if (DateTime.UtcNow > deadline) throw new TimeoutException($"ListContainers still showed {lastSeen} after {RecoveryTimeout}; expected {count} CREATED");
                    await Task.Delay(20, cancellationToken);
                }
            });
            var correct = Stopwatch.GetElapsedTime(restarted).TotalSeconds;
            readings.Add(new(socketMeasure, Seconds(serving), serving, Goal: "process start included"));
            readings.Add(new(listMeasure, Seconds(correct), correct,
                lastSeen.Length == 0 ? "the first answer was correct" : $"first answers showed {lastSeen}", "goal <= 2 s, every status correct"));
        }

        var removed = Stopwatch.GetTimestamp();
        await RemovePodAsync(target, step, podId, "state", cancellationToken);
        var removeSeconds = Stopwatch.GetElapsedTime(removed).TotalSeconds;
        readings.Add(new($"StopPodSandbox + RemovePodSandbox, {count} created containers", Seconds(removeSeconds), removeSeconds));
    }

    private static Task RemovePodAsync(CriTarget target, BenchStep step, string podId, string what, CancellationToken cancellationToken) =>
        step.RunAsync($"StopPodSandbox + RemovePodSandbox ({what})", async () =>
        {
            await target.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId }, cancellationToken: cancellationToken);
            await target.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId }, cancellationToken: cancellationToken);
        });

    private static string Seconds(double seconds) => seconds.ToString("F2", CultureInfo.InvariantCulture) + " s";
}
