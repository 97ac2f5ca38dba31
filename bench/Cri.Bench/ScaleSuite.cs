using System.Diagnostics;
using System.Globalization;
using Crisp.Cri.V1;
using Crisp.E2E.Daemon;
using Crisp.E2E.Fixtures;

namespace Crisp.Bench;

/// <summary>
/// `--scale N`: one pod filled with N created (never started) containers, as a kubelet leaves a pod whose
/// containers wait on an init container. Times the create rate, ListContainers over them, a kill -9 of crispd
/// and restart until ListContainers is correct again, then StopPodSandbox and RemovePodSandbox of the full pod while a
/// GetContainerEvents subscriber reads every event, as the kubelet's Evented PLEG does.
/// </summary>
public sealed class ScaleSuite(int containers) : IBenchSuite
{
    // Per bench process: two benches at once (crisp's and a branch's) must not share or remove each other's cgroups.
    private static readonly string CgroupParent = $"/crisp-bench-scale-{Environment.ProcessId}";
    private const int ListRounds = 5;

    public string Name => "scale";

    public async Task<IReadOnlyList<BenchRow>> RunAsync(CancellationToken cancellationToken)
    {
        var rows = new List<BenchRow>();
        var step = new BenchStep(Name);
        RegistryFixture? registry = null;
        CrispDaemon? daemon = null;
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
            var pods = new PodRequests(daemon, reference, CgroupParent);
            var (podId, pod) = await step.RunAsync("RunPodSandbox", () => pods.RunPodAsync("scale", cancellationToken));

            var created = Stopwatch.GetTimestamp();
            // Each create timed alone too: the first and the last tenth show whether a create costs more in a fuller pod.
            var createMs = new List<double>(containers);
            for (var i = 0; i < containers; i++)
            {
                var config = pods.ContainerConfig();
                config.Metadata.Name = $"app-{i}";
                config.LogPath = $"app-{i}/0.log";
                var one = Stopwatch.GetTimestamp();
                await step.RunAsync($"CreateContainer {i + 1} of {containers}", async () =>
                    await daemon.Runtime.CreateContainerAsync(new CreateContainerRequest { PodSandboxId = podId, Config = config, SandboxConfig = pod }, cancellationToken: cancellationToken));
                createMs.Add(Stopwatch.GetElapsedTime(one).TotalMilliseconds);
            }
            var createSeconds = Stopwatch.GetElapsedTime(created).TotalSeconds;
            rows.Add(new(Name, $"CreateContainer rate ({containers} in one pod)", Rate(containers, createSeconds),
                Note: $"{Seconds(createSeconds)} in all; goal >= 20/s"));
            var tenth = Math.Max(1, containers / 10);
            rows.Add(new(Name, "CreateContainer median, first / last tenth of the pod",
                $"{Stats.Ms(Stats.Median(createMs.Take(tenth).ToList()))} / {Stats.Ms(Stats.Median(createMs.TakeLast(tenth).ToList()))}",
                Note: "a cost that grows with the containers in the pod or on the node shows as a larger last tenth"));

            var list = await Stats.TimeAsync(ListRounds, async () =>
            {
                var listed = await daemon.Runtime.ListContainersAsync(new ListContainersRequest(), cancellationToken: cancellationToken);
                RequireAllCreated(listed, containers);
            });
            rows.Add(new(Name, $"ListContainers median ({containers} containers, {ListRounds} rounds)", Stats.Ms(Stats.Median(list))));

            await step.RunAsync("kill -9 crispd", () => daemon.KillAsync());
            var restarted = Stopwatch.GetTimestamp();
            await step.RunAsync("restart crispd", () => daemon.RestartAsync());
            var serving = Stopwatch.GetElapsedTime(restarted).TotalSeconds;
            await step.RunAsync("ListContainers after the restart", async () =>
                RequireAllCreated(await daemon.Runtime.ListContainersAsync(new ListContainersRequest(), cancellationToken: cancellationToken), containers));
            var correct = Stopwatch.GetElapsedTime(restarted).TotalSeconds;
            rows.Add(new(Name, $"kill -9, restart to a correct ListContainers ({containers})", Seconds(correct),
                Note: $"socket answered after {Seconds(serving)} (includes process start); goal <= 2 s"));

            using var subscription = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var stream = daemon.Runtime.GetContainerEvents(new GetEventsRequest(), cancellationToken: subscription.Token);
            var received = ReadEventsUntilDeletedAsync(stream.ResponseStream, podId, subscription.Token);
            // The subscription exists once the server has the call; give it a moment before acting.
            await Task.Delay(300, cancellationToken);

            var stopped = Stopwatch.GetTimestamp();
            await step.RunAsync("StopPodSandbox", async () =>
                await daemon.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId }, cancellationToken: cancellationToken));
            var stopSeconds = Stopwatch.GetElapsedTime(stopped).TotalSeconds;
            var removed = Stopwatch.GetTimestamp();
            await step.RunAsync("RemovePodSandbox", async () =>
                await daemon.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId }, cancellationToken: cancellationToken));
            var removeSeconds = Stopwatch.GetElapsedTime(removed).TotalSeconds;
            rows.Add(new(Name, $"StopPodSandbox ({containers} created containers)", Seconds(stopSeconds)));
            rows.Add(new(Name, $"RemovePodSandbox ({containers} created containers)", Seconds(removeSeconds)));
            rows.Add(new(Name, "StopPodSandbox + RemovePodSandbox", Seconds(stopSeconds + removeSeconds), Note: "goal < 10 s for 1000"));
            subscription.CancelAfter(TimeSpan.FromSeconds(60));
            var (events, bytes) = await step.RunAsync("GetContainerEvents until the sandbox's DELETED", () => received);
            // Each container's STOPPED and DELETED, the sandbox's STOPPED and DELETED.
            if (events != 2 * containers + 2)
                throw new BenchStepException(Name, "GetContainerEvents", new InvalidOperationException($"{events} events, expected {2 * containers + 2}"));
            rows.Add(new(Name, $"GetContainerEvents during stop + remove ({containers})", events.ToString(CultureInfo.InvariantCulture) + " events",
                Note: $"{bytes / (1024.0 * 1024.0):F1} MiB: every event carries every container's status"));
        }
        catch (BenchStepException e)
        {
            rows.Add(e.ToRow());
        }
        finally
        {
            if (await PodCleanup.RemoveAllReportingAsync(Name, daemon) is { } cleanupFailure) rows.Add(cleanupFailure);
            if (daemon is not null) await daemon.DisposeAsync();
            if (registry is not null) await registry.DisposeAsync();
            var leftCgroups = CgroupCleanup.RemoveTree(CgroupParent);
            if (leftCgroups.Count > 0)
                rows.Add(new(Name, "FAILED", "", Note: $"cgroups still populated after cleanup: {string.Join(", ", leftCgroups.Take(3))}"));
        }
        return rows;
    }

    /// <summary>Counts the events and their serialized bytes until the sandbox's own DELETED event.</summary>
    private static async Task<(int Events, long Bytes)> ReadEventsUntilDeletedAsync(
        Grpc.Core.IAsyncStreamReader<ContainerEventResponse> reader, string podId, CancellationToken cancellationToken)
    {
        var (events, bytes) = (0, 0L);
        while (await reader.MoveNext(cancellationToken))
        {
            var e = reader.Current;
            events++;
            bytes += e.CalculateSize();
            if (e.ContainerId == podId && e.ContainerEventType == ContainerEventType.ContainerDeletedEvent) break;
        }
        return (events, bytes);
    }

    private static void RequireAllCreated(ListContainersResponse listed, int expected)
    {
        var created = listed.Containers.Count(c => c.State == ContainerState.ContainerCreated);
        if (listed.Containers.Count != expected || created != expected)
            throw new InvalidOperationException($"ListContainers returned {listed.Containers.Count} containers, {created} of them CREATED; expected {expected} CREATED");
    }

    private static string Rate(int count, double seconds) => (count / seconds).ToString("F1", CultureInfo.InvariantCulture) + "/s";

    private static string Seconds(double seconds) => seconds.ToString("F2", CultureInfo.InvariantCulture) + " s";
}
