using System.Diagnostics;
using Crisp.Cri.V1;
using Crisp.E2E.Daemon;
using Crisp.E2E.Fixtures;

namespace Crisp.Bench;

/// <summary>
/// A kubelet's pod lifecycle, step by step, against the runc floor (create + start + delete with no daemon) in the
/// same run; then crispd's memory idle and with many running pods, and each container's conmon.
/// </summary>
public sealed class LifecycleSuite : IBenchSuite
{
    private const int Rounds = 20;
    private const int RunningPods = 20;
    // Per bench process: two benches at once (crisp's and a branch's) must not share or remove each other's cgroups.
    private static readonly string CgroupParent = $"/crisp-bench-{Environment.ProcessId}";

    private static readonly string[] Steps =
    [
        "RunPodSandbox", "CreateContainer", "StartContainer", "ExecSync", "StopContainer", "RemoveContainer",
        "StopPodSandbox", "RemovePodSandbox",
    ];

    public string Name => "lifecycle";

    public async Task<IReadOnlyList<BenchRow>> RunAsync(CancellationToken cancellationToken)
    {
        var rows = new List<BenchRow>();
        var step = new BenchStep(Name);
        RegistryFixture? registry = null;
        CrispDaemon? daemon = null;
        RuncFloor? floor = null;
        try
        {
            var reference = await step.RunAsync("push busybox", async () =>
            {
                registry = await RegistryFixture.StartAsync(cancellationToken: cancellationToken);
                return await ImagePusher.PushAsync(await TestImages.Busybox, registry, TestImageNames.Repository(TestImageNames.Busybox), "latest", cancellationToken);
            });
            daemon = await step.RunAsync("start crispd", () => CrispDaemon.StartAsync());
            await step.RunAsync("PullImage busybox", async () =>
                await daemon.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = reference } }, cancellationToken: cancellationToken));
            floor = await step.RunAsync("build the runc bundle", () => RuncFloor.CreateAsync($"{CgroupParent}/floor", cancellationToken));

            var pods = new PodRequests(daemon, reference, CgroupParent);
            var crisp = Steps.ToDictionary(s => s, _ => new List<double>());
            var floorCreate = new List<double>();
            var floorStart = new List<double>();
            var floorDelete = new List<double>();
            // Round 0 warms up both (JIT in crispd, runc and busybox in the page cache) and is not counted.
            for (var round = 0; round <= Rounds; round++)
            {
                var times = await RunRoundAsync(daemon, pods, step, $"bench-{round}", cancellationToken);
                var (create, start, delete) = await step.RunAsync("runc floor", () => floor.RunOnceAsync($"crisp-bench-floor-{Environment.ProcessId}-{round}", cancellationToken));
                if (round == 0) continue;
                foreach (var (name, ms) in times) crisp[name].Add(ms);
                floorCreate.Add(create);
                floorStart.Add(start);
                floorDelete.Add(delete);
            }

            string MedianP90(IReadOnlyList<double> samples) => $"{Stats.Ms(Stats.Median(samples))} / {Stats.Ms(Stats.Percentile(samples, 0.9))}";
            foreach (var name in Steps)
            {
                var floorColumn = name switch
                {
                    "CreateContainer" => MedianP90(floorCreate) + " runc create",
                    "StartContainer" => MedianP90(floorStart) + " runc start",
                    _ => "",
                };
                var note = name switch
                {
                    "ExecSync" => "`true`",
                    "StopContainer" => "timeout 0: SIGKILL (sleep is pid 1 and ignores SIGTERM)",
                    "RunPodSandbox" => "host network, no CNI",
                    _ => "",
                };
                rows.Add(new(Name, $"{name} median / p90 ({Rounds})", MedianP90(crisp[name]), floorColumn, Note: note));
            }
            rows.Add(new(Name, $"runc delete -f (floor) median / p90", "", MedianP90(floorDelete)));
            var crispCreateStart = crisp["CreateContainer"].Zip(crisp["StartContainer"], (c, s) => c + s).ToList();
            var floorCreateStart = floorCreate.Zip(floorStart, (c, s) => c + s).ToList();
            rows.Add(new(Name, "create+start median", Stats.Ms(Stats.Median(crispCreateStart)), Stats.Ms(Stats.Median(floorCreateStart)) + " runc",
                Stats.Ratio(Stats.Median(crispCreateStart), Stats.Median(floorCreateStart)), "goal <= 1.50x"));

            await Task.Delay(1000, cancellationToken);
            var idle = Stats.RssBytes(daemon.ProcessId ?? throw new InvalidOperationException($"crispd exited:\n{daemon.Output}"));
            rows.Add(new(Name, "crispd RSS idle (after the rounds)", Stats.MiB(idle)));

            var containers = new List<string>();
            for (var i = 0; i < RunningPods; i++)
            {
                var (podId, pod) = await step.RunAsync("RunPodSandbox (running set)", () => pods.RunPodAsync($"running-{i}", cancellationToken));
                var containerId = await step.RunAsync("CreateContainer (running set)", () => pods.CreateContainerAsync(podId, pod, cancellationToken));
                await step.RunAsync("StartContainer (running set)", async () =>
                    await daemon.Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = containerId }, cancellationToken: cancellationToken));
                containers.Add(containerId);
            }
            await Task.Delay(1000, cancellationToken);
            var busy = Stats.RssBytes(daemon.ProcessId ?? throw new InvalidOperationException($"crispd exited:\n{daemon.Output}"));
            rows.Add(new(Name, $"crispd RSS with {RunningPods} running pods", Stats.MiB(busy), Note: $"+{Stats.MiB(busy - idle)} over idle"));

            var conmonRss = new List<double>();
            foreach (var id in containers)
            {
                if (ProcessTable.FindConmon(id) is { } pid) conmonRss.Add(Stats.RssBytes(pid));
            }
            rows.Add(conmonRss.Count == 0
                ? new(Name, "conmon RSS per container", "?", Note: "no conmon process names a running container id")
                : new(Name, $"conmon RSS per container median / max ({conmonRss.Count})",
                    $"{Stats.MiB((long)Stats.Median(conmonRss))} / {Stats.MiB((long)conmonRss.Max())}",
                    Note: conmonRss.Count == containers.Count ? "" : $"found conmon for {conmonRss.Count} of {containers.Count} containers"));

            await step.RunAsync("remove the running pods", () => PodCleanup.RemoveAllAsync(daemon, cancellationToken));
            await step.RunAsync("RemoveImage busybox", async () =>
                await daemon.Images.RemoveImageAsync(new RemoveImageRequest { Image = new ImageSpec { Image = reference } }, cancellationToken: cancellationToken));
        }
        catch (BenchStepException e)
        {
            rows.Add(e.ToRow());
        }
        finally
        {
            if (await PodCleanup.RemoveAllReportingAsync(Name, daemon) is { } cleanupFailure) rows.Add(cleanupFailure);
            // Removed pods must take their containers' cgroups with them (the pod cgroups are the kubelet's, here the
            // sweep's); the sweep below would hide a leak.
            var containerCgroups = CgroupCleanup.FindBelowPods(CgroupParent, "pod");
            if (daemon is not null && containerCgroups.Count > 0)
                rows.Add(new(Name, "FAILED", "", Note: $"crisp left {containerCgroups.Count} container cgroups after removing every pod, e.g. {containerCgroups[0]}"));
            if (daemon is not null) await daemon.DisposeAsync();
            if (floor is not null) await floor.DisposeAsync();
            if (registry is not null) await registry.DisposeAsync();
            var leftCgroups = CgroupCleanup.RemoveTree(CgroupParent);
            if (leftCgroups.Count > 0)
                rows.Add(new(Name, "FAILED", "", Note: $"cgroups still populated after cleanup: {string.Join(", ", leftCgroups.Take(3))}"));
        }
        return rows;
    }

    /// <summary>One pod through the kubelet's whole sequence; the duration of every step.</summary>
    private static async Task<List<(string Step, double Ms)>> RunRoundAsync(CrispDaemon daemon, PodRequests pods, BenchStep step, string name, CancellationToken cancellationToken)
    {
        var times = new List<(string, double)>();
        async Task<T> Timed<T>(string stepName, Func<Task<T>> action)
        {
            var started = Stopwatch.GetTimestamp();
            var result = await step.RunAsync(stepName, action);
            times.Add((stepName, Stopwatch.GetElapsedTime(started).TotalMilliseconds));
            return result;
        }

        var runtime = daemon.Runtime;
        var (podId, pod) = await Timed("RunPodSandbox", () => pods.RunPodAsync(name, cancellationToken));
        var containerId = await Timed("CreateContainer", () => pods.CreateContainerAsync(podId, pod, cancellationToken));
        await Timed("StartContainer", async () => await runtime.StartContainerAsync(new StartContainerRequest { ContainerId = containerId }, cancellationToken: cancellationToken));
        var exec = await Timed("ExecSync", async () => await runtime.ExecSyncAsync(new ExecSyncRequest { ContainerId = containerId, Cmd = { "true" }, Timeout = 10 }, cancellationToken: cancellationToken));
        if (exec.ExitCode != 0)
            throw new BenchStepException("lifecycle", "ExecSync", new InvalidOperationException($"`true` exited {exec.ExitCode}: {exec.Stderr.ToStringUtf8()}"));
        await Timed("StopContainer", async () => await runtime.StopContainerAsync(new StopContainerRequest { ContainerId = containerId, Timeout = 0 }, cancellationToken: cancellationToken));
        await Timed("RemoveContainer", async () => await runtime.RemoveContainerAsync(new RemoveContainerRequest { ContainerId = containerId }, cancellationToken: cancellationToken));
        await Timed("StopPodSandbox", async () => await runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId }, cancellationToken: cancellationToken));
        await Timed("RemovePodSandbox", async () => await runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId }, cancellationToken: cancellationToken));
        return times;
    }
}
