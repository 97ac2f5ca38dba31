using System.Collections.Concurrent;
using Crisp.Cri.V1;
using Crisp.E2E.Daemon;
using Crisp.E2E.Fixtures;
using Crisp.E2E.Runtime;
using Xunit;

namespace Crisp.E2E.Network;

/// <summary>
/// One crispd whose pods join the test bridge (bridge + host-local + portmap), plus what every network test
/// needs: scratch dirs, the shared registry, and putting the host back as it was (ip_forward, the bridge).
/// Every network test class is in this collection, so tests that start their own daemon on the same bridge
/// never run at the same time as another.
/// </summary>
public sealed class NetworkFixture : IAsyncLifetime
{
    public const string NetworkName = "crisp-e2e";

    private const string IpForwardPath = "/proc/sys/net/ipv4/ip_forward";
    private readonly ConcurrentDictionary<string, Lazy<Task<string>>> _pulled = new(StringComparer.Ordinal);
    private string? _ipForwardAtStart;
    private string? _scratchRoot;
    private CrispDaemon? _daemon;
    private RegistryWithImages? _registry;

    public CrispDaemon Daemon => _daemon ?? throw new InvalidOperationException("fixture not initialised");
    public RegistryWithImages Registry => _registry ?? throw new InvalidOperationException("fixture not initialised");
    public RuntimeService.RuntimeServiceClient Runtime => Daemon.Runtime;
    public PodHelper Pods => new(Daemon, null);

    /// <summary>host-local's dataDir of the fixture's network: one file per allocated address, naming the sandbox.</summary>
    public string IpamDataDir => Path.Combine(ScratchRoot, "ipam");

    private string ScratchRoot => _scratchRoot ?? throw new InvalidOperationException("fixture not initialised");

    public async Task InitializeAsync()
    {
        _ipForwardAtStart = (await File.ReadAllTextAsync(IpForwardPath)).Trim();
        _scratchRoot = Directory.CreateTempSubdirectory("crisp-e2e-net-").FullName;
        _registry = await RegistryWithImages.GetSharedAsync();
        _daemon = await CrispDaemon.StartAsync(new DaemonOptions
        {
            CniConfig = TestBridge.BridgeWithPortmap(NetworkName, IpamDataDir, TestBridge.FixtureRange),
        });
    }

    /// <summary>A fresh directory for one test's plugins, IPAM data or config files; removed with the fixture.</summary>
    public string Scratch(string name) =>
        Directory.CreateDirectory(Path.Combine(ScratchRoot, $"{name}-{Guid.NewGuid().ToString("N")[..8]}")).FullName;

    /// <summary>Pulls busybox into the fixture's daemon once; returns the reference for ContainerConfig.image.</summary>
    public Task<string> BusyboxAsync() =>
        _pulled.GetOrAdd(TestImageNames.Busybox, n => new Lazy<Task<string>>(async () =>
        {
            var reference = Registry.Reference(n);
            await Daemon.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = reference } });
            return reference;
        })).Value;

    public async Task DisposeAsync()
    {
        if (_daemon is not null)
        {
            await NetworkDaemon.RemoveAllPodsQuietlyAsync(_daemon);
            await _daemon.DisposeAsync();
        }
        // The bridge plugin turned forwarding on for its gateway; the host had it as recorded.
        if (_ipForwardAtStart is not null)
            await File.WriteAllTextAsync(IpForwardPath, _ipForwardAtStart + "\n");
        foreach (var bridge in TestBridge.AllBridgeNames.Where(b => Directory.Exists($"/sys/class/net/{b}")))
            await ToolRunner.RunAsync("ip", ["link", "delete", bridge, "type", "bridge"]);
        if (_scratchRoot is not null)
        {
            try
            {
                Directory.Delete(_scratchRoot, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}

/// <summary>
/// Runs alone, after the parallel collections: these tests add and remove links, NAT rules and ip_forward on the host,
/// which other tests compare against (e.g. a hostNetwork pod's view of /sys/class/net).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NetworkCollection : ICollectionFixture<NetworkFixture>
{
    public const string Name = "network";
}
