using Crisp.Interop;
using Crisp.Runtime.Api;
using Crisp.Runtime.Cgroups;
using Crisp.Runtime.Events;
using Crisp.Runtime.Handlers;
using Crisp.Runtime.Host;
using Crisp.Runtime.Monitor;
using Crisp.Runtime.Namespaces;
using Crisp.Runtime.Network;
using Crisp.Runtime.Recovery;
using Crisp.Runtime.State;
using Crisp.Runtime.Stats;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Crisp.Runtime;

public static class ServiceCollectionExtensions
{
    /// <summary>
    /// Registers the runtime library as singletons: <see cref="ContainerRuntime"/>, the handler registry, cgroups,
    /// namespaces, the state store, the exit watcher and events; plus a hosted service that probes the handlers
    /// and recovers state at start. Needs an <see cref="ImageService.Api.IImageManager"/> registered by the caller.
    /// </summary>
    public static IServiceCollection AddCrispRuntime(this IServiceCollection services, RuntimeOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton(_ => HostFeatureDetector.Detect());
        services.AddSingleton(sp => new StateStore(Path.Combine(options.Root, "runtime.db"), sp.GetRequiredService<ILogger<StateStore>>()));
        services.AddSingleton(sp => CreateHandlerRegistry(options, sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton<ICgroupManager>(sp => CgroupManagerFactory.Create(sp.GetRequiredService<HostFeatures>(), options.CgroupDriver));
        services.AddSingleton(sp => new PodNamespaces(Path.Combine(options.StateDir, "ns"), sp.GetRequiredService<ILogger<PodNamespaces>>()));
        services.AddSingleton(sp => new ExitWatcher(
            Path.Combine(options.StateDir, "exits"),
            sp.GetRequiredService<ILogger<ExitWatcher>>(),
            // conmon's persist dir is the container's bundle dir (see CreateContainer).
            id => Path.Combine(options.StateDir, "containers", id)));
        services.AddSingleton(sp => new CniConfigSource(options.CniConfDir, sp.GetRequiredService<ILogger<CniConfigSource>>()));
        services.AddSingleton(sp => new PodNetwork(
            sp.GetRequiredService<CniConfigSource>(),
            new CniPluginExecutor(options.CniBinDirs),
            new CniAttachmentCache(EnsureNetworkDirectory(options, "attachments")),
            new PodCidrStore(Path.Combine(EnsureNetworkDirectory(options), "pod-cidr")),
            sp.GetRequiredService<ILogger<PodNetwork>>()));
        services.AddSingleton<ContainerEventBroadcaster>();
        services.AddSingleton<CpuRateTracker>();
        services.AddSingleton<ContainerRuntime>();
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
