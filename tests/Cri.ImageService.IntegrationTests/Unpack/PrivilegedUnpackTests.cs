using Crisp.ImageService.Unpack;
using Crisp.Interop;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Crisp.ImageService.IntegrationTests.Unpack;

/// <summary>
/// Unpacking what only root may write: other users' ownership, device nodes and trusted.* overlay xattrs
/// (CAP_CHOWN, CAP_MKNOD, CAP_SYS_ADMIN). The rest of the unpacker is tested unprivileged in Cri.ImageService.Tests.
/// </summary>
public sealed class PrivilegedUnpackTests : IDisposable
{
    private readonly TempRoot _root = new();
    private readonly LayerUnpacker _unpacker = new(NullLogger<LayerUnpacker>.Instance);

    public void Dispose() => _root.Dispose();

    private Task<LayerUnpacker.Result> UnpackAsync(CompressedLayer layer) =>
        _unpacker.UnpackAsync(new MemoryStream(layer.Blob.ToArray()), layer.Descriptor.ToManifestDescriptor(), layer.Descriptor.DiffId, _root.Target, "layer under test", CancellationToken.None);

    private string At(string relative) => Path.Combine(_root.Target, relative);

    private static Libc.EntryStatus Stat(string path) => Libc.StatNoFollow(path) ?? throw new Xunit.Sdk.XunitException($"{path} does not exist");

    [Fact]
    public async Task PreservesOwnershipModesSetuidAndTimes()
    {
        var fileTime = new DateTimeOffset(2019, 1, 2, 3, 4, 5, TimeSpan.Zero);
        var dirTime = new DateTimeOffset(2018, 6, 7, 8, 9, 10, TimeSpan.Zero);
        CompressedLayer layer = LayerBuilder.OwnedByCurrentUser()
            .AddDirectory("usr/", mtime: dirTime, uid: 7, gid: 8, mode: (UnixFileMode)0b111_101_000)
            .AddFile("usr/su", "#!", mode: (UnixFileMode)0b100_111_101_101, uid: 1000, gid: 1001, mtime: fileTime) // 04755
            .AddDirectory("tmp/", mode: (UnixFileMode)0b001_111_111_111) // 01777
            .AddFile("usr/sgid", "x", mode: (UnixFileMode)0b010_111_101_101) // 02755
            .Build();

        await UnpackAsync(layer);

        Libc.EntryStatus su = Stat(At("usr/su"));
        Assert.Equal(0b100_111_101_101u, su.Mode & 0xFFF);
        Assert.Equal((1000u, 1001u), (su.Uid, su.Gid));
        Assert.Equal(fileTime.UtcDateTime, File.GetLastWriteTimeUtc(At("usr/su")));
        Assert.Equal(0b010_111_101_101u, Stat(At("usr/sgid")).Mode & 0xFFF);
        Assert.Equal(0b001_111_111_111u, Stat(At("tmp")).Mode & 0xFFF);
        Libc.EntryStatus usr = Stat(At("usr"));
        Assert.Equal((7u, 8u, 0b111_101_000u), (usr.Uid, usr.Gid, usr.Mode & 0xFFF));
        // Written after its children, so the directory keeps the time its own entry gave it.
        Assert.Equal(dirTime.UtcDateTime, Directory.GetLastWriteTimeUtc(At("usr")));
    }

    [Fact]
    public async Task PreservesSymlinksAsWrittenWithTheirOwner()
    {
        CompressedLayer layer = LayerBuilder.OwnedByCurrentUser()
            .AddDirectory("bin/")
            .AddFile("bin/busybox", "elf", mode: (UnixFileMode)0b111_101_101)
            .AddSymlink("bin/sh", "busybox", uid: 5, gid: 6)
            .AddSymlink("etc-link", "/etc")
            .Build();

        await UnpackAsync(layer);

        Libc.EntryStatus sh = Stat(At("bin/sh"));
        Assert.True(sh.IsSymbolicLink);
        Assert.Equal((5u, 6u), (sh.Uid, sh.Gid));
        Assert.Equal("busybox", new FileInfo(At("bin/sh")).LinkTarget);
        Assert.Equal("/etc", new FileInfo(At("etc-link")).LinkTarget);
    }

    [Fact]
    public async Task CreatesDevicesAndFifos()
    {
        CompressedLayer layer = LayerBuilder.OwnedByCurrentUser()
            .AddCharacterDevice("dev/null", 1, 3)
            .AddBlockDevice("dev/loop0", 7, 0)
            .AddCharacterDevice("dev/big", 300, 70000)
            .AddFifo("run/pipe")
            .Build();

        await UnpackAsync(layer);

        Libc.EntryStatus nul = Stat(At("dev/null"));
        Assert.Equal((Libc.SIfChr, 1u, 3u), (nul.FileType, nul.DeviceMajor, nul.DeviceMinor));
        Assert.Equal(0b110_110_110u, nul.Mode & 0xFFF);
        Libc.EntryStatus loop = Stat(At("dev/loop0"));
        Assert.Equal((Libc.SIfBlk, 7u, 0u), (loop.FileType, loop.DeviceMajor, loop.DeviceMinor));
        Libc.EntryStatus big = Stat(At("dev/big"));
        Assert.Equal((300u, 70000u), (big.DeviceMajor, big.DeviceMinor));
        Assert.Equal(Libc.SIfIfo, Stat(At("run/pipe")).FileType);
    }

    [Fact]
    public async Task MarksOpaqueDirectoriesWithTheOverlayXattr()
    {
        CompressedLayer layer = LayerBuilder.OwnedByCurrentUser()
            .AddDirectory("var/")
            .AddDirectory("var/cache/")
            .AddOpaqueWhiteout("var/cache")
            .AddFile("var/cache/new", "kept")
            .AddFile("var/.wh..wh.plnk", "")
            .Build();

        await UnpackAsync(layer);

        Assert.Equal("y"u8.ToArray(), Libc.GetXattrNoFollow(At("var/cache"), "trusted.overlay.opaque"));
        Assert.Equal("kept", File.ReadAllText(At("var/cache/new")));
        Assert.Null(Libc.StatNoFollow(At("var/cache/.wh..wh..opq")));
        Assert.Null(Libc.StatNoFollow(At("var/.wh..wh.plnk")));
        Assert.Null(Libc.GetXattrNoFollow(At("var"), "trusted.overlay.opaque"));
    }
}
