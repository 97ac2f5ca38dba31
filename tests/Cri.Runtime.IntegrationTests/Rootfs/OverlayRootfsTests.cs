using Crisp.Interop.Procfs;
using Crisp.Runtime.Rootfs;
using Xunit;

namespace Crisp.Runtime.IntegrationTests.Rootfs;

public sealed class OverlayRootfsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "crisp-ovl-" + Guid.NewGuid().ToString("N")[..8]);

    private string Layer(string name, params (string File, string Content)[] files)
    {
        var dir = Path.Combine(_dir, "layers", name);
        Directory.CreateDirectory(dir);
        foreach (var (file, content) in files) File.WriteAllText(Path.Combine(dir, file), content);
        return dir;
    }

    [Fact]
    public async Task Upper_layers_win_and_writes_land_in_the_upper_dir()
    {
        var bottom = Layer("bottom", ("a", "bottom"), ("b", "bottom"));
        var top = Layer("top", ("b", "top"));
        var target = Path.Combine(_dir, "rootfs");
        var upper = Path.Combine(_dir, "upper");
        await OverlayRootfs.MountAsync([bottom, top], upper, Path.Combine(_dir, "work"), target, idmap: null, CancellationToken.None);
        try
        {
            Assert.True(MountTable.ReadSelf().IsMountPoint(target));
            Assert.Equal("bottom", File.ReadAllText(Path.Combine(target, "a")));
            Assert.Equal("top", File.ReadAllText(Path.Combine(target, "b")));
            File.WriteAllText(Path.Combine(target, "c"), "new");
            Assert.Equal("new", File.ReadAllText(Path.Combine(upper, "c")));
            Assert.False(File.Exists(Path.Combine(top, "c")));
        }
        finally
        {
            await OverlayRootfs.UnmountAsync(target, CancellationToken.None);
        }
        Assert.False(MountTable.ReadSelf().IsMountPoint(target));
        await OverlayRootfs.UnmountAsync(target, CancellationToken.None); // not mounted is fine
    }

    [Fact]
    public async Task Single_and_zero_layer_images_mount()
    {
        var only = Layer("only", ("x", "1"));
        var t1 = Path.Combine(_dir, "r1");
        await OverlayRootfs.MountAsync([only], Path.Combine(_dir, "u1", "fs"), Path.Combine(_dir, "u1", "work"), t1, idmap: null, CancellationToken.None);
        Assert.Equal("1", File.ReadAllText(Path.Combine(t1, "x")));
        await OverlayRootfs.UnmountAsync(t1, CancellationToken.None);

        var t2 = Path.Combine(_dir, "r2");
        await OverlayRootfs.MountAsync([], Path.Combine(_dir, "u2", "fs"), Path.Combine(_dir, "u2", "work"), t2, idmap: null, CancellationToken.None);
        Assert.Empty(Directory.EnumerateFileSystemEntries(t2));
        await OverlayRootfs.UnmountAsync(t2, CancellationToken.None);
    }

    [Fact]
    public async Task Many_long_layer_paths_exceed_the_mount_page_limit_and_still_mount()
    {
        var layers = new List<string>();
        for (var i = 0; i < 60; i++)
            layers.Add(Layer($"{i:D3}-{new string('x', 150)}", ($"f{i}", i.ToString())));
        Assert.True(string.Join(':', layers).Length > 4096);
        var target = Path.Combine(_dir, "rootfs");
        await OverlayRootfs.MountAsync(layers, Path.Combine(_dir, "upper"), Path.Combine(_dir, "work"), target, idmap: null, CancellationToken.None);
        try
        {
            Assert.Equal("0", File.ReadAllText(Path.Combine(target, "f0")));
            Assert.Equal("59", File.ReadAllText(Path.Combine(target, "f59")));
        }
        finally
        {
            await OverlayRootfs.UnmountAsync(target, CancellationToken.None);
        }
    }

    public void Dispose()
    {
        foreach (var m in MountTable.ReadSelf().MountPointsUnder(_dir))
            Crisp.Interop.Libc.Unmount(m, Crisp.Interop.Libc.MNT_DETACH);
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
