using Crisp.Cri.V1;
using Crisp.E2E.Fixtures;
using Grpc.Core;
using Xunit;

namespace Crisp.E2E.Runtime;

/// <summary>Stats from the cgroups and the writable layer; lifecycle events in order.</summary>
[Collection(RuntimeCollection.Name)]
public sealed class StatsAndEventsTests(RuntimeFixture fixture)
{
    private PodHelper Pods => fixture.Pods;

    [Fact]
    public async Task Stats_are_non_zero_and_plausible()
    {
        var (podId, pod) = await Pods.RunPodAsync("stats");
        // Writes 1 MiB to its writable layer, keeps a second process, then burns CPU in dd (not in a shell
        // loop: busybox-static's sh was seen sleeping in `while :; do :; done` under load).
        var id = await Pods.StartAsync(podId, pod, "busy", TestImageNames.Busybox,
            ["sh", "-c", "dd if=/dev/zero of=/data.bin bs=1024 count=1024 2>/dev/null; sleep 300 & exec dd if=/dev/zero of=/dev/null bs=64k"]);
        await Task.Delay(1000);
        var first = (await fixture.Runtime.ContainerStatsAsync(new ContainerStatsRequest { ContainerId = id })).Stats;
        await Task.Delay(1000);
        var second = (await fixture.Runtime.ContainerStatsAsync(new ContainerStatsRequest { ContainerId = id })).Stats;

        Assert.Equal(id, second.Attributes.Id);
        Assert.Equal("busy", second.Attributes.Metadata.Name);
        Assert.True(second.Cpu.UsageCoreNanoSeconds.Value > 0);
        Assert.True(second.Cpu.UsageCoreNanoSeconds.Value >= first.Cpu.UsageCoreNanoSeconds.Value);
        Assert.NotNull(second.Cpu.UsageNanoCores);
        // At most every core of this host, with 5% slack for the sampling interval.
        Assert.InRange(second.Cpu.UsageNanoCores.Value, 1UL, (ulong)HostCpus.Count * 1_050_000_000UL);
        Assert.InRange(second.Memory.WorkingSetBytes.Value, 1UL, 1UL << 30);
        Assert.True(second.Memory.UsageBytes.Value >= second.Memory.WorkingSetBytes.Value);
        // The writable layer is measured in the background: the first calls may answer before the walk is done.
        var layer = second.WritableLayer;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (layer is not { UsedBytes.Value: >= 1024 * 1024 } && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
            layer = (await fixture.Runtime.ContainerStatsAsync(new ContainerStatsRequest { ContainerId = id })).Stats.WritableLayer;
        }
        Assert.True(layer?.UsedBytes.Value >= 1024 * 1024, $"writable layer {layer}");
        Assert.True(layer!.InodesUsed.Value >= 1);

        var list = await fixture.Runtime.ListContainerStatsAsync(new ListContainerStatsRequest { Filter = new ContainerStatsFilter { PodSandboxId = podId } });
        Assert.Equal(id, Assert.Single(list.Stats).Attributes.Id);

        var podStats = (await fixture.Runtime.PodSandboxStatsAsync(new PodSandboxStatsRequest { PodSandboxId = podId })).Stats;
        Assert.Equal(podId, podStats.Attributes.Id);
        Assert.True(podStats.Linux.Cpu.UsageCoreNanoSeconds.Value >= second.Cpu.UsageCoreNanoSeconds.Value);
        Assert.True(podStats.Linux.Process.ProcessCount.Value >= 2);
        Assert.Equal(id, Assert.Single(podStats.Linux.Containers).Attributes.Id);

        var descriptors = await fixture.Runtime.ListMetricDescriptorsAsync(new ListMetricDescriptorsRequest());
        Assert.Contains(descriptors.Descriptors, d => d.Name == "container_memory_working_set_bytes");
        var metrics = await fixture.Runtime.ListPodSandboxMetricsAsync(new ListPodSandboxMetricsRequest());
        var mine = Assert.Single(metrics.PodMetrics, m => m.PodSandboxId == podId);
        var containerMetrics = Assert.Single(mine.ContainerMetrics);
        Assert.True(containerMetrics.Metrics.Single(m => m.Name == "container_memory_working_set_bytes").Value.Value > 0);
        Assert.All(descriptors.Descriptors, d => Assert.Contains(containerMetrics.Metrics, m => m.Name == d.Name));

        await fixture.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId });
        await fixture.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId });
    }

    [Fact]
    public async Task Container_events_arrive_in_order_with_statuses()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var stream = fixture.Runtime.GetContainerEvents(new GetEventsRequest(), cancellationToken: cts.Token);
        // The subscription exists once the server has the call; give it a moment before acting.
        await Task.Delay(300);

        var (podId, pod) = await Pods.RunPodAsync("events");
        var id = await Pods.StartAsync(podId, pod, "evented", TestImageNames.Busybox, ["sh", "-c", "sleep 0.3"]);
        await Pods.WaitForExitAsync(id);
        await fixture.Runtime.RemoveContainerAsync(new RemoveContainerRequest { ContainerId = id });

        var seen = new List<ContainerEventResponse>();
        while (seen.Count(e => e.ContainerId == id) < 4 && await stream.ResponseStream.MoveNext(cts.Token))
            seen.Add(stream.ResponseStream.Current);
        var mine = seen.Where(e => e.ContainerId == id).ToList();
        Assert.Equal(
            [ContainerEventType.ContainerCreatedEvent, ContainerEventType.ContainerStartedEvent, ContainerEventType.ContainerStoppedEvent, ContainerEventType.ContainerDeletedEvent],
            mine.Select(e => e.ContainerEventType));
        Assert.All(mine, e => Assert.Equal(podId, e.PodSandboxStatus.Id));
        Assert.Equal(ContainerState.ContainerRunning, mine[1].ContainersStatuses.Single(s => s.Id == id).State);
        Assert.Equal(ContainerState.ContainerExited, mine[2].ContainersStatuses.Single(s => s.Id == id).State);
        Assert.True(mine.Zip(mine.Skip(1)).All(p => p.First.CreatedAt <= p.Second.CreatedAt));

        await fixture.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId });
        await fixture.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId });
        cts.Cancel();
    }

    [Fact]
    public async Task Stream_list_variants_return_what_the_lists_return()
    {
        var (podId, pod) = await Pods.RunPodAsync("streams");
        var id = await Pods.StartAsync(podId, pod, "streamed", TestImageNames.Busybox, ["sleep", "300"]);

        var pods = new List<PodSandbox>();
        using (var call = fixture.Runtime.StreamPodSandboxes(new StreamPodSandboxesRequest { Filter = new PodSandboxFilter { Id = podId } }))
            await foreach (var page in call.ResponseStream.ReadAllAsync()) pods.AddRange(page.PodSandboxes);
        Assert.Equal(podId, Assert.Single(pods).Id);

        var containers = new List<Container>();
        using (var call = fixture.Runtime.StreamContainers(new StreamContainersRequest { Filter = new ContainerFilter { PodSandboxId = podId } }))
            await foreach (var page in call.ResponseStream.ReadAllAsync()) containers.AddRange(page.Containers);
        Assert.Equal(id, Assert.Single(containers).Id);

        var stats = new List<ContainerStats>();
        using (var call = fixture.Runtime.StreamContainerStats(new StreamContainerStatsRequest { Filter = new ContainerStatsFilter { Id = id } }))
            await foreach (var page in call.ResponseStream.ReadAllAsync()) stats.AddRange(page.ContainerStats);
        Assert.Equal(id, Assert.Single(stats).Attributes.Id);

        var podStats = new List<PodSandboxStats>();
        using (var call = fixture.Runtime.StreamPodSandboxStats(new StreamPodSandboxStatsRequest { Filter = new PodSandboxStatsFilter { Id = podId } }))
            await foreach (var page in call.ResponseStream.ReadAllAsync()) podStats.AddRange(page.PodSandboxStats);
        Assert.Equal(podId, Assert.Single(podStats).Attributes.Id);

        // Id prefixes and state filters, as crictl uses them.
        var byPrefix = await fixture.Runtime.ListContainersAsync(new ListContainersRequest { Filter = new ContainerFilter { Id = id[..12] } });
        Assert.Equal(id, Assert.Single(byPrefix.Containers).Id);
        var exitedOnly = await fixture.Runtime.ListContainersAsync(new ListContainersRequest
        {
            Filter = new ContainerFilter { PodSandboxId = podId[..12], State = new ContainerStateValue { State = ContainerState.ContainerExited } },
        });
        Assert.Empty(exitedOnly.Containers);
        var status = await fixture.Runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = id[..12] });
        Assert.Equal(id, status.Status.Id);

        await fixture.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId });
        var notReady = await fixture.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest
        {
            Filter = new PodSandboxFilter { LabelSelector = { ["pod"] = "streams" }, State = new PodSandboxStateValue { State = PodSandboxState.SandboxNotready } },
        });
        Assert.Contains(notReady.Items, p => p.Id == podId);
        await fixture.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId });
    }
}
