using System.Collections.Concurrent;
using Xunit;

namespace Crisp.E2E.Fixtures;

/// <summary>
/// One anonymous registry holding every standard catalogue image as "crisp-test/NAME:latest", plus Docker
/// schema 2 conversions (<see cref="TestImageNames.DockerSchema2"/>).
/// Large and hostile images are pushed on demand with <see cref="EnsurePushedAsync"/>.
/// </summary>
public sealed class RegistryWithImages : IAsyncLifetime
{
    public const string Tag = "latest";
    private const int ParallelPushes = 4;

    private static readonly Lazy<Task<RegistryWithImages>> Shared = new(async () =>
    {
        var shared = new RegistryWithImages { _isShared = true };
        await shared.InitializeAsync();
        return shared;
    });

    private readonly ConcurrentDictionary<string, Lazy<Task<PushedImage>>> _pushes = new(StringComparer.Ordinal);
    private RegistryFixture? _registry;
    private bool _isShared;

    /// <summary>
    /// One process-wide instance, for fixtures outside the "registry" collection (e.g. a daemon fixture) that
    /// should not start a second registry. It lives until the test process exits; disposing it does nothing.
    /// </summary>
    public static Task<RegistryWithImages> GetSharedAsync() => Shared.Value;

    public RegistryFixture Registry => _registry ?? throw new InvalidOperationException("RegistryWithImages is not initialised yet");

    public string Host => Registry.Host;

    /// <summary>Pushed images by name (<see cref="TestImageNames.InSharedRegistry"/>).</summary>
    public IReadOnlyDictionary<string, PushedImage> Images { get; private set; } = new Dictionary<string, PushedImage>();

    public PushedImage this[string name] =>
        Images.TryGetValue(name, out var image)
            ? image
            : throw new KeyNotFoundException($"'{name}' is not a standard image of the registry fixture (have: {string.Join(", ", Images.Keys)}); use EnsurePushedAsync for large/hostile images");

    /// <summary>"127.0.0.1:PORT/crisp-test/NAME:latest" of a standard image.</summary>
    public string Reference(string name) => this[name].Reference;

    public async Task InitializeAsync()
    {
        _registry = await RegistryFixture.StartAsync();
        using var gate = new SemaphoreSlim(ParallelPushes);
        var pushed = await Task.WhenAll(TestImageNames.InSharedRegistry.Select(async name =>
        {
            await gate.WaitAsync();
            try
            {
                return await EnsurePushedAsync(name);
            }
            finally
            {
                gate.Release();
            }
        }));
        Images = pushed.ToDictionary(p => p.Name, StringComparer.Ordinal);
    }

    /// <summary>Pushes any catalogue image (large and hostile ones included) once, and returns where it is.</summary>
    public Task<PushedImage> EnsurePushedAsync(string name, CancellationToken cancellationToken = default) =>
        _pushes.GetOrAdd(name, n => new Lazy<Task<PushedImage>>(() => PushAsync(n, cancellationToken))).Value;

    public async Task DisposeAsync()
    {
        if (_registry is not null && !_isShared)
        {
            await _registry.DisposeAsync();
        }
    }

    private async Task<PushedImage> PushAsync(string name, CancellationToken cancellationToken)
    {
        var repository = TestImageNames.Repository(name);
        if (TestImageNames.DockerSchema2.TryGetValue(name, out var source))
        {
            var converted = await ImagePusher.PushAsDockerSchema2Async(await TestImages.GetAsync(source), Registry, repository, Tag, cancellationToken);
            return new PushedImage(name, Registry.Host, repository, Tag, converted with { Name = name });
        }

        var image = await TestImages.GetAsync(name);
        await ImagePusher.PushAsync(image, Registry, repository, Tag, cancellationToken);
        return new PushedImage(name, Registry.Host, repository, Tag, image);
    }
}
