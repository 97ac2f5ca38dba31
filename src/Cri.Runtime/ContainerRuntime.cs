using Crisp.ImageService.Api;
using Crisp.Runtime.Api;
using Crisp.Runtime.Cgroups;
using Crisp.Runtime.Events;
using Crisp.Runtime.Handlers;
using Crisp.Runtime.Monitor;
using Crisp.Runtime.Namespaces;
using Crisp.Runtime.Network;
using Crisp.Runtime.State;
using Crisp.Runtime.Stats;
using Microsoft.Extensions.Logging;

namespace Crisp.Runtime;

/// <summary>
/// The runtime library's facade: pod sandboxes and containers, as the daemon's RuntimeService handlers see them.
/// It orchestrates the parts (state store, runtime handlers under conmon, cgroups, pinned namespaces, overlay
/// rootfs, spec generation) and is split into partial files by concern.
/// </summary>
public sealed partial class ContainerRuntime
{
    private readonly RuntimeOptions _options;
    private readonly StateStore _store;
    private readonly RuntimeHandlerRegistry _handlers;
    private readonly ICgroupManager _cgroups;
    private readonly PodNamespaces _namespaces;
    private readonly PodNetwork _network;
    private readonly ExitWatcher _exits;
    private readonly IImageManager _images;
    private readonly HostFeatures _host;
    private readonly ContainerEventBroadcaster _events;
    private readonly CpuRateTracker _cpuRates;
    private readonly ILogger<ContainerRuntime> _logger;
    private readonly KeyedLocks _locks = new();
    // Sandbox/container names are reserved under this lock so two concurrent creates cannot both win.
    private readonly SemaphoreSlim _nameLock = new(1, 1);

    public ContainerRuntime(
        RuntimeOptions options,
        StateStore store,
        RuntimeHandlerRegistry handlers,
        ICgroupManager cgroups,
        PodNamespaces namespaces,
        PodNetwork network,
        ExitWatcher exits,
        IImageManager images,
        HostFeatures host,
        ContainerEventBroadcaster events,
        CpuRateTracker cpuRates,
        ILogger<ContainerRuntime> logger)
    {
        _options = options;
        _store = store;
        _handlers = handlers;
        _cgroups = cgroups;
        _namespaces = namespaces;
        _network = network;
        _exits = exits;
        _images = images;
        _host = host;
        _events = events;
        _cpuRates = cpuRates;
        _logger = logger;
        _images.RegisterSnapshotUsage(LayerDirsInUse);
        _exits.ContainerExited += OnContainerExited;
    }

    public ContainerEventBroadcaster Events => _events;

    private string SandboxesRoot => Path.Combine(_options.Root, "sandboxes");
    private string ContainersRoot => Path.Combine(_options.Root, "containers");
    private string SandboxesStateRoot => Path.Combine(_options.StateDir, "sandboxes");
    private string ContainersStateRoot => Path.Combine(_options.StateDir, "containers");
    /// <summary>conmon writes &lt;id&gt; here with the exit code; read by the exit watcher and by recovery.</summary>
    internal string ExitDir => _exits.ExitDir;

    private IReadOnlySet<string> LayerDirsInUse() =>
        _store.Containers.SelectMany(c => c.LayerDirs).ToHashSet(StringComparer.Ordinal);

    private SandboxRecord RequireSandbox(string idOrPrefix)
    {
        if (string.IsNullOrEmpty(idOrPrefix))
            throw RuntimeException.InvalidField("pod_sandbox_id", "must not be empty");
        var id = ObjectIds.Resolve(idOrPrefix, _store.Sandboxes.Select(s => s.Id), "pod sandbox");
        return (id is null ? null : _store.FindSandbox(id))
            ?? throw new RuntimeException(RuntimeErrorKind.NotFound, $"pod sandbox {idOrPrefix} not found");
    }

    private SandboxRecord? FindSandbox(string idOrPrefix)
    {
        if (string.IsNullOrEmpty(idOrPrefix)) return null;
        var id = ObjectIds.Resolve(idOrPrefix, _store.Sandboxes.Select(s => s.Id), "pod sandbox");
        return id is null ? null : _store.FindSandbox(id);
    }

    private ContainerRecord RequireContainer(string idOrPrefix)
    {
        if (string.IsNullOrEmpty(idOrPrefix))
            throw RuntimeException.InvalidField("container_id", "must not be empty");
        return FindContainer(idOrPrefix)
            ?? throw new RuntimeException(RuntimeErrorKind.NotFound, $"container {idOrPrefix} not found");
    }

    private ContainerRecord? FindContainer(string idOrPrefix)
    {
        if (string.IsNullOrEmpty(idOrPrefix)) return null;
        var id = ObjectIds.Resolve(idOrPrefix, _store.Containers.Select(c => c.Id), "container");
        return id is null ? null : _store.FindContainer(id);
    }

    private IRuntimeHandler HandlerOf(string name) => _handlers.Get(name);

    /// <summary>The handler a record names, or null when the configuration no longer has it.</summary>
    private IRuntimeHandler? TryHandlerOf(string name)
    {
        try { return _handlers.Get(name); }
        catch (RuntimeException) { return null; }
    }
}
