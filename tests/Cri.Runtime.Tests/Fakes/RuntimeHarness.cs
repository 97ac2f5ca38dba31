using Crisp.Cri.V1;
using Crisp.Runtime.Api;
using Crisp.Runtime.Containers;
using Crisp.Runtime.Events;
using Crisp.Runtime.Handlers;
using Crisp.Runtime.Host;
using Crisp.Runtime.ImageVolumes;
using Crisp.Runtime.Lsm;
using Crisp.Runtime.Monitor;
using Crisp.Runtime.Recovery;
using Crisp.Runtime.Sandboxes;
using Crisp.Runtime.State;
using Crisp.Runtime.Stats;
using Microsoft.Extensions.Logging.Abstractions;

namespace Crisp.Runtime.Tests.Fakes;

/// <summary>
/// The lifecycle services wired as in crispd, over in-memory fakes of every root-needing seam and a temporary
/// root and state dir. <see cref="Restart"/> builds a fresh set over the same host, as a crispd restart would.
/// </summary>
public sealed class RuntimeHarness : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "crisp-harness-" + Guid.NewGuid().ToString("N"));

    public RuntimeHarness() : this(null) { }

    private RuntimeHarness(RuntimeHarness? previous)
    {
        if (previous is not null) _dir = previous._dir;
        Layout = new RuntimeLayout(Path.Combine(_dir, "root"), Path.Combine(_dir, "state"));
        Store = previous?.Store.Reloaded() ?? new InMemoryStateStore();
        Handler = previous?.Handler ?? new FakeRuntimeHandler();
        Cgroups = previous?.Cgroups ?? new FakeCgroupManager();
        Namespaces = previous?.Namespaces ?? new FakePodNamespaces(Layout.NamespacesDir);
        Network = previous?.Network ?? new FakePodNetwork();
        Mounts = previous?.Mounts ?? new FakeMounts();
        Images = previous?.Images ?? new FakeImageManager(Path.Combine(_dir, "layer"));
        AppArmor = previous?.AppArmor ?? new FakeAppArmorHost();
        Selinux = previous?.Selinux ?? new FakeSelinuxHost();
        ScriptedCategories = previous?.ScriptedCategories ?? new Queue<int>();
        var categories = ScriptedCategories;
        var selinuxLabels = new SelinuxLabels(
            Selinux, new McsLevels(max => categories.TryDequeue(out var c) ? c : Random.Shared.Next(max)), NullLogger<SelinuxLabels>.Instance);
        foreach (var directory in Layout.Directories) Directory.CreateDirectory(directory);

        var locks = new KeyedLocks();
        var handlers = new RuntimeHandlerRegistry([Handler], Handler.Name);
        var host = new HostFeatures(false, -1000, false);
        var cpuRates = new CpuRateTracker();
        Watcher = new ExitWatcher(Layout.ExitDir, NullLogger<ExitWatcher>.Instance, Layout.ContainerBundle);
        var events = Events = new ContainerEventPublisher(Store, new ContainerEventBroadcaster(NullLogger<ContainerEventBroadcaster>.Instance));
        Exits = new ContainerExits(Store, locks, Watcher, Cgroups, handlers, events, NullLogger<ContainerExits>.Instance);
        ImageVolumes = new ImageVolumeManager(Layout, Store, Mounts, Images, NullLogger<ImageVolumeManager>.Instance);
        Removal = new DeferredRemoval(Layout, Mounts, NullLogger<DeferredRemoval>.Instance);
        Teardown = new ContainerTeardown(Store, locks, handlers, Mounts, Exits, events, cpuRates, ImageVolumes, Removal, NullLogger<ContainerTeardown>.Instance);
        Creator = new ContainerCreator(Layout, Store, locks, handlers, Cgroups, Images, Mounts, host, Teardown, events,
            new AppArmorProfiles(AppArmor, Path.Combine(_dir, "root", "apparmor"), NullLogger<AppArmorProfiles>.Instance), selinuxLabels,
            new RuntimeOptions { Root = Layout.Root, StateDir = Layout.StateDir },
            new Crisp.Runtime.Cdi.CdiRegistry([CdiDir], NullLogger<Crisp.Runtime.Cdi.CdiRegistry>.Instance), ImageVolumes,
            NullLogger<ContainerCreator>.Instance);
        Containers = new ContainerService(Store, locks, handlers, host, Exits, events, NullLogger<ContainerService>.Instance);
        Sandboxes = new SandboxService(Layout, Store, locks, handlers, Cgroups, Namespaces, Network, Mounts, Teardown, events, cpuRates, selinuxLabels, NullLogger<SandboxService>.Instance);
        Recovery = new RecoveryService(Layout, Store, locks, handlers, Namespaces, Network, Mounts, Teardown, Exits, Sandboxes, ImageVolumes, Removal, NullLogger<RecoveryService>.Instance);
        // A kill is reported as conmon would: the exit reaches the exit handling of whichever crispd is running.
        Handler.Exited = (id, code) => Exits.MarkExitedAsync(id, code, DateTimeOffset.UtcNow, oomKilled: false);
    }

    public RuntimeLayout Layout { get; }

    public DeferredRemoval Removal { get; }
    /// <summary>The CDI spec directory the creator reads (absent until a test writes a spec into it).</summary>
    public string CdiDir => Path.Combine(_dir, "cdi");
    public InMemoryStateStore Store { get; }
    public FakeRuntimeHandler Handler { get; }
    public FakeCgroupManager Cgroups { get; }
    public FakePodNamespaces Namespaces { get; }
    public FakePodNetwork Network { get; }
    public FakeMounts Mounts { get; }
    public FakeImageManager Images { get; }
    public FakeAppArmorHost AppArmor { get; }
    public FakeSelinuxHost Selinux { get; }
    /// <summary>MCS categories handed out before random ones, so a test can force two pods onto the same draw.</summary>
    public Queue<int> ScriptedCategories { get; }
    public ExitWatcher Watcher { get; }
    public ContainerExits Exits { get; }
    public ContainerTeardown Teardown { get; }
    public ImageVolumeManager ImageVolumes { get; }
    public ContainerEventPublisher Events { get; }
    public ContainerCreator Creator { get; }
    public ContainerService Containers { get; }
    public SandboxService Sandboxes { get; }
    public RecoveryService Recovery { get; }

    /// <summary>crispd started again over the same host: records read back, the seams' host state kept.</summary>
    public RuntimeHarness Restart() => new(this);

    public static RunPodSandboxRequest PodRequest(string name = "pod", bool sharedPid = false) => new()
    {
        Config = new PodSandboxConfig
        {
            Metadata = new PodSandboxMetadata { Name = name, Namespace = "default", Uid = "uid-" + name },
            Hostname = name,
            Linux = new LinuxPodSandboxConfig
            {
                SecurityContext = new LinuxSandboxSecurityContext
                {
                    NamespaceOptions = new NamespaceOption { Pid = sharedPid ? NamespaceMode.Pod : NamespaceMode.Container },
                },
            },
        },
    };

    public static CreateContainerRequest ContainerRequest(string sandboxId, string name = "app") => new()
    {
        PodSandboxId = sandboxId,
        Config = new ContainerConfig
        {
            Metadata = new ContainerMetadata { Name = name },
            Image = new ImageSpec { Image = FakeImageManager.Reference },
        },
        SandboxConfig = PodRequest().Config,
    };

    public async Task<string> RunPodAsync() => await Sandboxes.RunPodSandboxAsync(PodRequest(), CancellationToken.None);

    public async Task<string> CreateContainerAsync(string sandboxId, string name = "app") =>
        await Creator.CreateContainerAsync(ContainerRequest(sandboxId, name), CancellationToken.None);

    public async Task<string> StartedContainerAsync(string sandboxId, string name = "app")
    {
        var id = await CreateContainerAsync(sandboxId, name);
        await Containers.StartContainerAsync(new StartContainerRequest { ContainerId = id }, CancellationToken.None);
        return id;
    }

    /// <summary>conmon's exit file for a container, as written while crispd was down.</summary>
    public void WriteExitFile(string containerId, int exitCode) =>
        File.WriteAllText(Path.Combine(Layout.ExitDir, containerId), exitCode.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>What rebuilds this runtime's records from its bundles into <paramref name="emptied"/>, as after a lost database.</summary>
    public DiskStateRebuilder RebuilderInto(IStateStore emptied) =>
        new(emptied, new RuntimeOptions { Root = Layout.Root, StateDir = Layout.StateDir }, Images,
            new Crisp.Runtime.Namespaces.PodNamespaces(Layout.NamespacesDir, NullLogger<Crisp.Runtime.Namespaces.PodNamespaces>.Instance),
            Mounts, NullLogger<DiskStateRebuilder>.Instance);

    /// <summary>Entries left under the directories the lifecycle creates per sandbox and container.</summary>
    public IReadOnlyList<string> LeftoverEntries() =>
        new[] { Layout.SandboxesRoot, Layout.SandboxesStateRoot, Layout.ContainersRoot, Layout.ContainersStateRoot, Layout.NamespacesDir, Layout.ImageVolumesDir }
            .Where(Directory.Exists)
            .SelectMany(Directory.EnumerateFileSystemEntries)
            .ToList();

    /// <summary>Asserts that no sandbox or container left anything: record, runc state, cgroup, namespace, attachment, mount, directory.</summary>
    public void AssertNothingLeft()
    {
        Xunit.Assert.Empty(Store.Sandboxes);
        Xunit.Assert.Empty(Store.Containers);
        Xunit.Assert.Empty(Handler.Known);
        Xunit.Assert.Empty(Cgroups.PodCgroups);
        Xunit.Assert.Empty(Namespaces.Pinned);
        Xunit.Assert.Empty(Network.Attached);
        Xunit.Assert.Empty(Mounts.Mounted);
        Xunit.Assert.Empty(LeftoverEntries());
    }

    public void Dispose()
    {
        Watcher.Dispose();
        try { Directory.Delete(_dir, recursive: true); }
        catch (DirectoryNotFoundException) { }
    }
}
