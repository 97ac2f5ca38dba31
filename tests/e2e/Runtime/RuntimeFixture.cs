using System.Collections.Concurrent;
using Crisp.Cri.V1;
using Crisp.E2E.Daemon;
using Crisp.E2E.Fixtures;
using Xunit;

namespace Crisp.E2E.Runtime;

/// <summary>
/// One crispd with the shared test registry, for the runtime tests that do not restart the daemon.
/// Images are pulled once, on first use.
/// </summary>
public sealed class RuntimeFixture : IAsyncLifetime
{
    private readonly ConcurrentDictionary<string, Lazy<Task<string>>> _pulled = new(StringComparer.Ordinal);
    private CrispDaemon? _daemon;
    private RegistryWithImages? _registry;

    public CrispDaemon Daemon => _daemon ?? throw new InvalidOperationException("fixture not initialised");
    public RegistryWithImages Registry => _registry ?? throw new InvalidOperationException("fixture not initialised");
    public RuntimeService.RuntimeServiceClient Runtime => Daemon.Runtime;

    public async Task InitializeAsync()
    {
        _registry = await RegistryWithImages.GetSharedAsync();
        _daemon = await CrispDaemon.StartAsync();
    }

    /// <summary>Pulls a catalogue image once; returns the reference to use in ContainerConfig.image.</summary>
    public Task<string> ImageAsync(string name) =>
        _pulled.GetOrAdd(name, n => new Lazy<Task<string>>(async () =>
        {
            var reference = Registry.Reference(n);
            await Daemon.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = reference } });
            return reference;
        })).Value;

    public PodHelper Pods => new(Daemon, this);

    public async Task DisposeAsync()
    {
        if (_daemon is not null)
        {
            await PodHelper.RemoveAllAsync(_daemon.Runtime);
            await _daemon.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class RuntimeCollection : ICollectionFixture<RuntimeFixture>
{
    public const string Name = "runtime";
}
