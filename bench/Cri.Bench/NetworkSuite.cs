using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Crisp.Cri.V1;
using Crisp.E2E.Daemon;
using Crisp.E2E.Fixtures;

namespace Crisp.Bench;

/// <summary>
/// What pod networking costs a sandbox: RunPodSandbox, StopPodSandbox and RemovePodSandbox of a pod on the bench's
/// bridge network (netns + CNI ADD/DEL), without and with a hostPort, beside the same steps of a hostNetwork pod, on
/// one crispd in the same rounds; and the CNI floor (the plugins run directly) to show how much of that cost is crisp's.
/// </summary>
public sealed class NetworkSuite : IBenchSuite
{
    private const int Rounds = 20;
    // Per bench process: two benches at once (crisp's and a branch's) must not share or remove each other's cgroups.
    private static readonly string CgroupParent = $"/crisp-bench-network-{Environment.ProcessId}";
    private const string Total = "Run+Stop+Remove";

    private enum Side
    {
        HostNetwork,
        PodNetwork,
        PodNetworkWithHostPort,
        CniFloor,
        CniFloorWithHostPort,
    }

    private static readonly string[] Steps = ["RunPodSandbox", "StopPodSandbox", "RemovePodSandbox", Total];

    public string Name => "network";

    public async Task<IReadOnlyList<BenchRow>> RunAsync(CancellationToken cancellationToken)
    {
        var rows = new List<BenchRow>();
        var step = new BenchStep(Name);
        BenchBridgeNetwork? network = null;
        CrispDaemon? daemon = null;
        CniFloor? floorToClean = null;
        try
        {
            network = await step.RunAsync("prepare the bridge network", () => BenchBridgeNetwork.CreateAsync(cancellationToken));
            var conflist = network.ConfList;
            daemon = await step.RunAsync("start crispd", () => CrispDaemon.StartAsync(new DaemonOptions { CniConfig = conflist }));
            // Sandboxes only: no container, so no image is pulled.
            var pods = new PodRequests(daemon, imageReference: "", CgroupParent);

            var floor = floorToClean = new CniFloor(conflist);
            var samples = Enum.GetValues<Side>().ToDictionary(side => side, _ => new Dictionary<string, List<double>>());
            // Round 0 warms up every side (JIT in crispd, the plugins and iptables in the page cache, the bridge's
            // creation) and is not counted.
            for (var round = 0; round <= Rounds; round++)
            {
                // Rotating which side goes first keeps drift within a round from favouring one of them.
                var sides = Enum.GetValues<Side>();
                for (var i = 0; i < sides.Length; i++)
                {
                    var side = sides[(round + i) % sides.Length];
                    var times = side is Side.CniFloor or Side.CniFloorWithHostPort
                        ? await RunFloorAsync(floor, step, side, round, cancellationToken)
                        : await RunRoundAsync(daemon, pods, step, side, round, cancellationToken);
                    if (round == 0) continue;
                    foreach (var (name, ms) in times)
                    {
                        if (!samples[side].TryGetValue(name, out var list)) samples[side][name] = list = [];
                        list.Add(ms);
                    }
                }
            }

            var host = samples[Side.HostNetwork];
            var variants = new[]
            {
                (Pod: Side.PodNetwork, Floor: Side.CniFloor, Label: "", Note: "bridge + host-local, portmap with no hostPort"),
                (Pod: Side.PodNetworkWithHostPort, Floor: Side.CniFloorWithHostPort, Label: ", 1 hostPort", Note: "same + portmap's iptables rules for 1 hostPort"),
            };
            foreach (var (podSide, _, label, note) in variants)
            {
                foreach (var name in Steps)
                {
                    var pod = samples[podSide][name];
                    var cost = Stats.Median(pod) - Stats.Median(host[name]);
                    rows.Add(new(Name, $"{name}{label} median / p90 ({Rounds})", MedianP90(pod), MedianP90(host[name]) + " hostNetwork",
                        Stats.Ratio(Stats.Median(pod), Stats.Median(host[name])),
                        $"CNI cost {(cost >= 0 ? "+" : "")}{Stats.Ms(cost)} median; {note}"));
                }
            }

            // How much of the CNI cost is the plugins themselves: the pod's extra time over its hostNetwork twin of the
            // same round, beside netns + plugin chain run directly.
            foreach (var (podSide, floorSide, label, _) in variants)
            {
                foreach (var (stepName, floorStep, what) in new[] { ("RunPodSandbox", "ADD", "netns + ADD chain"), ("StopPodSandbox", "DEL", "DEL chain + netns delete") })
                {
                    var extra = samples[podSide][stepName].Zip(host[stepName], (p, h) => p - h).ToList();
                    var direct = samples[floorSide][floorStep];
                    rows.Add(new(Name, $"{stepName}{label} over hostNetwork vs CNI floor, median / p90", MedianP90(extra), MedianP90(direct) + " " + what + " direct",
                        Stats.Ratio(Stats.Median(extra), Stats.Median(direct)), "floor: ip netns + /usr/lib/cni plugins, no daemon"));
                }
            }
        }
        catch (BenchStepException e)
        {
            rows.Add(e.ToRow());
        }
        finally
        {
            if (daemon?.ProcessId is not null)
            {
                if (await PodCleanup.RemoveAllReportingAsync(Name, daemon) is { } cleanupFailure) rows.Add(cleanupFailure);
                // Every pod is gone now, so anything CNI or the netns pinning left is a leak, not a pod in flight.
                rows.AddRange(await LeaksAsync(daemon, network));
            }
            if (floorToClean is not null)
                foreach (var problem in await floorToClean.CleanUpAsync()) rows.Add(new(Name, "FAILED", "", Note: $"cleanup: {problem}"));
            if (daemon is not null) await daemon.DisposeAsync();
            if (network is not null)
                foreach (var problem in await network.CleanUpAsync()) rows.Add(new(Name, "FAILED", "", Note: $"cleanup: {problem}"));
            var leftCgroups = CgroupCleanup.RemoveTree(CgroupParent);
            if (leftCgroups.Count > 0)
                rows.Add(new(Name, "FAILED", "", Note: $"cgroups still populated after cleanup: {string.Join(", ", leftCgroups.Take(3))}"));
        }
        return rows;
    }

    private static string MedianP90(IReadOnlyList<double> samples) => $"{Stats.Ms(Stats.Median(samples))} / {Stats.Ms(Stats.Percentile(samples, 0.9))}";

    /// <summary>One pod, on one side, through run, stop and remove; the duration of every step.</summary>
    private static async Task<List<(string Step, double Ms)>> RunRoundAsync(
        CrispDaemon daemon, PodRequests pods, BenchStep step, Side side, int round, CancellationToken cancellationToken)
    {
        var onPodNetwork = side != Side.HostNetwork;
        var times = new List<(string, double)>();
        async Task<T> Timed<T>(string stepName, Func<Task<T>> action)
        {
            var started = Stopwatch.GetTimestamp();
            var result = await step.RunAsync($"{stepName} ({side}, round {round})", action);
            times.Add((stepName, Stopwatch.GetElapsedTime(started).TotalMilliseconds));
            return result;
        }

        var runtime = daemon.Runtime;
        var config = pods.PodConfig($"{side.ToString().ToLowerInvariant()}-{round}");
        config.Linux.SecurityContext.NamespaceOptions.Network = onPodNetwork ? NamespaceMode.Pod : NamespaceMode.Node;
        config.Labels["bench"] = "network";
        if (side == Side.PodNetworkWithHostPort)
        {
            // Loopback only: the forward must not be reachable from off the machine.
            config.PortMappings.Add(new PortMapping { Protocol = Protocol.Tcp, ContainerPort = 80, HostPort = FreeTcpPort.Pick(), HostIp = "127.0.0.1" });
        }
        var podId = await Timed("RunPodSandbox", async () =>
            (await runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = config }, cancellationToken: cancellationToken)).PodSandboxId);

        // Outside the timings: a pod-network pod without an address on the bridge was never given one by CNI, and
        // its numbers would not measure what this suite claims.
        if (onPodNetwork)
        {
            await step.RunAsync($"PodSandboxStatus ({side}, round {round})", async () =>
            {
                var status = await runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = podId }, cancellationToken: cancellationToken);
                var ip = status.Status.Network?.Ip ?? "";
                if (!IPAddress.TryParse(ip, out var address) || !BenchBridgeNetwork.Subnet.Contains(address))
                    throw new InvalidOperationException(
                        $"pod {podId} has ip '{ip}', not one in {BenchBridgeNetwork.Subnet} from {BenchBridgeNetwork.NetworkName}: CNI ADD did not give it the bridge network");
            });
        }

        await Timed("StopPodSandbox", async () => await runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId }, cancellationToken: cancellationToken));
        await Timed("RemovePodSandbox", async () => await runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId }, cancellationToken: cancellationToken));
        times.Add((Total, times.Sum(t => t.Item2)));
        return times;
    }

    /// <summary>One attachment made directly with the plugins, with or without a hostPort; ADD and DEL durations.</summary>
    private static async Task<List<(string Step, double Ms)>> RunFloorAsync(CniFloor floor, BenchStep step, Side side, int round, CancellationToken cancellationToken)
    {
        var portMappings = side == Side.CniFloorWithHostPort
            ? new JsonArray(new JsonObject { ["hostPort"] = FreeTcpPort.Pick(), ["containerPort"] = 80, ["protocol"] = "tcp", ["hostIP"] = "127.0.0.1" })
            : null;
        var (add, delete) = await step.RunAsync($"CNI floor ({side}, round {round})", () =>
            floor.RunOnceAsync($"crispbench-floor-{Environment.ProcessId}-{round}-{(int)side}", portMappings, cancellationToken));
        return [("ADD", add), ("DEL", delete)];
    }

    /// <summary>What removed pods must not leave: IP leases, veths on the bridge, pinned netns mounts, pod cgroups.</summary>
    private async Task<List<BenchRow>> LeaksAsync(CrispDaemon daemon, BenchBridgeNetwork? network)
    {
        var rows = new List<BenchRow>();
        if (network?.Leases() is { Count: > 0 } leases)
            rows.Add(new(Name, "FAILED", "", Note: $"host-local still leases {leases.Count} addresses after every pod was removed (CNI DEL missing?), e.g. {leases[0]}"));
        var ports = await BenchBridgeNetwork.BridgePortsAsync(CancellationToken.None);
        if (ports.Count > 0)
            rows.Add(new(Name, "FAILED", "", Note: $"{BenchBridgeNetwork.BridgeName} still has {ports.Count} veths after every pod was removed, e.g. {ports[0]}"));
        var rules = await BenchBridgeNetwork.PortForwardRulesAsync(CancellationToken.None);
        if (rules.Count > 0)
            rows.Add(new(Name, "FAILED", "", Note: $"{rules.Count} portmap nat rules for {BenchBridgeNetwork.NetworkName} left after every pod was removed, e.g. {rules[0]}"));
        var pinned = LeftoverCleanup.MountsUnder(Path.Combine(daemon.StateDirectory, "ns"));
        if (pinned.Count > 0)
            rows.Add(new(Name, "FAILED", "", Note: $"{pinned.Count} netns still pinned after every pod was removed, e.g. {pinned[0]}"));
        // The pod cgroups are the kubelet's (here the final sweep's); their containers' cgroups are crisp's to remove.
        var containerCgroups = CgroupCleanup.FindBelowPods(CgroupParent, "pod");
        if (containerCgroups.Count > 0)
            rows.Add(new(Name, "FAILED", "", Note: $"crisp left {containerCgroups.Count} container cgroups after removing every pod, e.g. {containerCgroups[0]}"));
        return rows;
    }
}
