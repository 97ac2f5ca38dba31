using Crisp.Interop;
using Crisp.Runtime.Api;
using Crisp.Runtime.Cgroups;
using Crisp.Runtime.Containers;
using Crisp.Runtime.Events;
using Crisp.Runtime.Handlers;
using Crisp.Runtime.Host;
using Crisp.Runtime.Lsm;
using Crisp.Runtime.Monitor;
using Crisp.Runtime.Namespaces;
using Crisp.Runtime.Network;
using Crisp.Runtime.Recovery;
using Crisp.Runtime.Rootfs;
using Crisp.Runtime.Sandboxes;
using Crisp.Runtime.State;
using Crisp.Runtime.Stats;
using Crisp.Runtime.Streaming;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Crisp.Runtime;

public static class ServiceCollectionExtensions
{
    /// <summary>
    /// Registers the runtime library as singletons: the services of each aggregate behind <see cref="ContainerRuntime"/>,
    /// and the seams they share (handler registry, cgroups, namespaces, network, mounts, state store, exit watcher);
    /// plus a hosted service that probes the handlers
    /// and recovers state at start. Needs an <see cref="ImageService.Api.IImageManager"/> registered by the caller.
    /// </summary>
    public static IServiceCollection AddCrispRuntime(this IServiceCollection services, RuntimeOptions options)
    {
        var layout = RuntimeLayout.From(options);
        services.AddSingleton(options);
        services.AddSingleton(layout);
        services.AddSingleton(_ => HostFeatureDetector.Detect());
        services.AddSingleton(sp => new StateStore(Path.Combine(options.Root, "runtime.db"), sp.GetRequiredService<ILogger<StateStore>>()));
        services.AddSingleton<IStateStore>(sp => sp.GetRequiredService<StateStore>());
        services.AddSingleton(sp => CreateHandlerRegistry(options, sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton<ICgroupManager>(sp => CgroupManagerFactory.Create(sp.GetRequiredService<HostFeatures>(), options.CgroupDriver));
        services.AddSingleton(sp => new PodNamespaces(layout.NamespacesDir, sp.GetRequiredService<ILogger<PodNamespaces>>()));
        services.AddSingleton<IPodNamespaces>(sp => sp.GetRequiredService<PodNamespaces>());
        services.AddSingleton(sp => new ExitWatcher(
            layout.ExitDir,
            sp.GetRequiredService<ILogger<ExitWatcher>>(),
            // conmon's persist dir is the container's bundle dir (see ContainerCreator).
            layout.ContainerBundle));
        services.AddSingleton(sp => new CniConfigSource(options.CniConfDir, sp.GetRequiredService<ILogger<CniConfigSource>>()));
        services.AddSingleton<IPodNetwork>(sp => new PodNetwork(
            sp.GetRequiredService<CniConfigSource>(),
            new CniPluginExecutor(options.CniBinDirs),
            new CniAttachmentCache(EnsureNetworkDirectory(options, "attachments")),
            new PodCidrStore(Path.Combine(EnsureNetworkDirectory(options), "pod-cidr")),
            sp.GetRequiredService<ILogger<PodNetwork>>()));
        services.AddSingleton<IRuntimeMounts, HostMounts>();
        services.AddSingleton<IAppArmorHost>(_ => new AppArmorHost());
        services.AddSingleton(sp => new AppArmorProfiles(
            sp.GetRequiredService<IAppArmorHost>(), Path.Combine(options.Root, "apparmor"), sp.GetRequiredService<ILogger<AppArmorProfiles>>()));
        services.AddSingleton<ISelinuxHost>(_ => new SelinuxHost());
        services.AddSingleton(_ => new McsLevels());
        services.AddSingleton<SelinuxLabels>();
        services.AddSingleton<KeyedLocks>();
        services.AddSingleton<ContainerEventBroadcaster>();
        services.AddSingleton<ContainerEventPublisher>();
        services.AddSingleton<CpuRateTracker>();
        services.AddSingleton<WritableLayerUsageCache>();
        services.AddSingleton<ContainerExits>();
        services.AddSingleton<ImageVolumes.ImageVolumeManager>();
        services.AddSingleton<DeferredRemoval>();
        services.AddSingleton<ContainerTeardown>();
        services.AddSingleton(sp => new Cdi.CdiRegistry(options.CdiSpecDirs, sp.GetRequiredService<ILogger<Cdi.CdiRegistry>>()));
        services.AddSingleton<ContainerCreator>();
        services.AddSingleton<ContainerService>();
        services.AddSingleton<ContainerQueries>();
        services.AddSingleton<SandboxService>();
        services.AddSingleton<SandboxQueries>();
        services.AddSingleton<ExecService>();
        services.AddSingleton<StatsService>();
        services.AddSingleton<RecoveryService>();
        services.AddSingleton<ContainerRuntime>();
        services.AddSingleton<DiskStateRebuilder>();
        services.AddHostedService<RuntimeStartupService>();
        return services;
    }

    /// <summary>
    /// The handlers are built here without probing (DI factories cannot await); <see cref="RuntimeStartupService"/>
    /// probes them before anything is served, and until then each reports itself not ready.
    /// </summary>
    /// <summary>&lt;root&gt;/network[/sub], created or tightened (an older crispd left it 0755) when the network is wired.</summary>
    private static string EnsureNetworkDirectory(RuntimeOptions options, string? sub = null)
    {
        var network = Path.Combine(options.Root, "network");
        OwnedDirectory.Ensure(network);
        if (sub is null) return network;
        var path = Path.Combine(network, sub);
        OwnedDirectory.Ensure(path);
        return path;
    }

    private static RuntimeHandlerRegistry CreateHandlerRegistry(RuntimeOptions options, ILoggerFactory loggerFactory)
    {
        var configured = options.Handlers.Count > 0
            ? options.Handlers
            :
            [
                new RuntimeHandlerOptions { Name = "runc", Path = "runc", Root = Path.Combine(options.StateDir, "runc") },
                new RuntimeHandlerOptions { Name = "crun", Path = "crun", Root = Path.Combine(options.StateDir, "crun") },
            ];
        var logger = loggerFactory.CreateLogger<OciRuntimeHandler>();
        return new RuntimeHandlerRegistry(
            configured.Select(o => new OciRuntimeHandler(o, options.ConmonPath, options.CgroupDriver, logger)),
            options.DefaultHandler);
    }
}
