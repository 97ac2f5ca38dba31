using Crisp.E2E.Daemon;
using Crisp.E2E.Fixtures;
using Xunit;

namespace Crisp.E2E.Images;

/// <summary>One crispd and the shared registry with the standard images, for a test class of image RPCs.</summary>
public sealed class ImageDaemonFixture : IAsyncLifetime
{
    public RegistryWithImages Registry { get; private set; } = null!;

    public CrispDaemon Daemon { get; private set; } = null!;

    public string ImagesRoot => Path.Combine(Daemon.RootDirectory, "images");

    public async Task InitializeAsync()
    {
        Registry = await RegistryWithImages.GetSharedAsync();
        Daemon = await CrispDaemon.StartAsync();
    }

    public async Task DisposeAsync() => await Daemon.DisposeAsync();
}
