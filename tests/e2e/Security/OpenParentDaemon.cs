using Crisp.Cri.V1;
using Crisp.E2E.Daemon;
using Crisp.E2E.Fixtures;
using Crisp.E2E.Runtime;

namespace Crisp.E2E.Security;

/// <summary>
/// A crispd whose root and state_dir sit in a directory anyone may traverse (0755, like /var/lib and /run), so
/// that what an unprivileged user can reach is decided by crispd's own modes, not by the test's temp dir.
/// </summary>
public sealed class OpenParentDaemon : IAsyncDisposable
{
    private const UnixFileMode Traversable = (UnixFileMode)0b111_101_101;

    private OpenParentDaemon(CrispDaemon daemon, RegistryWithImages registry)
    {
        Daemon = daemon;
        Registry = registry;
        Pods = new PodHelper(daemon, null);
    }

    public CrispDaemon Daemon { get; }
    public RegistryWithImages Registry { get; }
    public PodHelper Pods { get; }

    public static async Task<OpenParentDaemon> StartAsync()
    {
        var registry = await RegistryWithImages.GetSharedAsync();
        var daemon = await CrispDaemon.StartAsync();
        File.SetUnixFileMode(daemon.BaseDirectory, Traversable);
        File.SetUnixFileMode(daemon.LogDirectory, Traversable);
        return new OpenParentDaemon(daemon, registry);
    }

    public async Task<string> PullAsync(string imageName)
    {
        var reference = Registry.Reference(imageName);
        await Daemon.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = reference } });
        return reference;
    }

    public ContainerConfig Container(string name, string reference, params string[] command)
    {
        var config = new ContainerConfig
        {
            Metadata = new ContainerMetadata { Name = name },
            Image = new ImageSpec { Image = reference },
            LogPath = $"{name}/0.log",
        };
        config.Command.Add(command);
        return config;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (Daemon.ProcessId is not null) await PodHelper.RemoveAllAsync(Daemon.Runtime);
        }
        finally
        {
            await Daemon.DisposeAsync();
        }
    }
}
