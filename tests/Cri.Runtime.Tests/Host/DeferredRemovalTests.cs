using Crisp.Runtime.Host;
using Crisp.Runtime.Tests.Fakes;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Crisp.Runtime.Tests.Host;

/// <summary>A removed container's directories leave at once (one rename) and are deleted by the background sweep, never through a mount.</summary>
public sealed class DeferredRemovalTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crisp-trash-").FullName;
    private readonly FakeMounts _mounts = new();
    private readonly RuntimeLayout _layout;
    private readonly DeferredRemoval _removal;

    public DeferredRemovalTests()
    {
        _layout = new RuntimeLayout(Path.Combine(_dir, "root"), Path.Combine(_dir, "state"));
        foreach (var directory in _layout.Directories) Directory.CreateDirectory(directory);
        _removal = new DeferredRemoval(_layout, _mounts, NullLogger<DeferredRemoval>.Instance);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string WithFiles(string directory)
    {
        Directory.CreateDirectory(Path.Combine(directory, "upper", "etc"));
        File.WriteAllText(Path.Combine(directory, "upper", "etc", "hosts"), "127.0.0.1 localhost\n");
        return directory;
    }

    [Fact]
    public async Task DirectoriesLeaveAtOnceAndTheSweepDeletesThem()
    {
        var container = WithFiles(Path.Combine(_layout.ContainersRoot, "c1"));
        var bundle = WithFiles(_layout.ContainerBundle("c1"));

        var notMoved = _removal.MoveAside(container, bundle);

        Assert.Empty(notMoved);
        Assert.False(Directory.Exists(container));
        Assert.False(Directory.Exists(bundle));
        await _removal.ScheduleSweep().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_layout.RootTrash));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_layout.StateTrash));
    }

    [Fact]
    public void TheSweepNeverDeletesThroughAMount()
    {
        var container = WithFiles(Path.Combine(_layout.ContainersRoot, "c1"));
        var entry = Path.Combine(_layout.RootTrash, "c1.moved");
        Directory.Move(container, entry);
        _mounts.MountIdmapped("/somewhere", Path.Combine(entry, "volume"), "/proc/1/ns/user");

        _removal.Sweep();

        Assert.True(File.Exists(Path.Combine(entry, "upper", "etc", "hosts")));
        _mounts.UnmountAllUnder(entry);
        _removal.Sweep();
        Assert.False(Directory.Exists(entry));
    }

    [Fact]
    public void ADirectoryOutsideRootAndStateIsLeftToTheCaller()
    {
        var elsewhere = WithFiles(Path.Combine(_dir, "elsewhere"));

        var notMoved = _removal.MoveAside(elsewhere, Path.Combine(_layout.ContainersRoot, "never-made"));

        Assert.Equal([elsewhere], notMoved);
        Assert.True(Directory.Exists(elsewhere));
    }

    [Fact]
    public async Task RemoveContainerLeavesNothingBehindOnceSwept()
    {
        using var runtime = new RuntimeHarness();
        var containerId = await runtime.StartedContainerAsync(await runtime.RunPodAsync());
        var record = runtime.Store.FindContainer(containerId)!;

        await runtime.Teardown.RemoveContainerAsync(new Crisp.Cri.V1.RemoveContainerRequest { ContainerId = containerId }, CancellationToken.None);

        Assert.False(Directory.Exists(record.Directory));
        Assert.False(Directory.Exists(record.BundleDirectory));
        await runtime.Removal.ScheduleSweep().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Empty(Directory.EnumerateFileSystemEntries(runtime.Layout.RootTrash));
        Assert.Empty(Directory.EnumerateFileSystemEntries(runtime.Layout.StateTrash));
    }
}
