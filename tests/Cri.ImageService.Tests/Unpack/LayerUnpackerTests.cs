using System.Formats.Tar;
using System.Text;
using Crisp.ImageService.Api;
using Crisp.ImageService.Manifests;
using Crisp.ImageService.Unpack;
using Crisp.Interop;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Crisp.ImageService.Tests.Unpack;

public sealed class LayerUnpackerTests : IDisposable
{
    private readonly TempRoot _root = new();
    private readonly LayerUnpacker _unpacker = new(NullLogger<LayerUnpacker>.Instance);

    public void Dispose() => _root.Dispose();

    private Task<LayerUnpacker.Result> UnpackAsync(Layer layer, string? diffId = null, Descriptor? descriptor = null, byte[]? blob = null) =>
        _unpacker.UnpackAsync(new MemoryStream(blob ?? layer.Blob), descriptor ?? layer.Descriptor, diffId ?? layer.DiffId,
            _root.Target, "layer under test", CancellationToken.None);

    private string At(string relative) => Path.Combine(_root.Target, relative);

    private static Libc.EntryStatus Stat(string path) => Libc.StatNoFollow(path) ?? throw new Xunit.Sdk.XunitException($"{path} does not exist");

    [Theory]
    [InlineData(LayerCompression.Gzip)]
    [InlineData(LayerCompression.Zstd)]
    [InlineData(LayerCompression.None)]
    public async Task UnpacksEveryCompression(LayerCompression compression)
    {
        Layer layer = new LayerBuilder().Directory("etc/").File("etc/hostname", "box\n").Build(compression);

        LayerUnpacker.Result result = await UnpackAsync(layer);

        Assert.Equal("box\n", File.ReadAllText(At("etc/hostname")));
        Assert.Equal(layer.Blob.Length, result.CompressedBytes);
        Assert.Equal(2, result.Entries);
        _root.AssertOutsideUnchanged();
    }

    [Fact]
    public async Task CreatesMissingParentDirectories()
    {
        Layer layer = new LayerBuilder().File("a/b/c/file", "deep").Build();

        await UnpackAsync(layer);

        Assert.Equal("deep", File.ReadAllText(At("a/b/c/file")));
        Assert.True(Stat(At("a/b")).IsDirectory);
    }

    [Fact]
    public async Task HardLinksShareTheTargetsInode()
    {
        Layer layer = new LayerBuilder()
            .File("bin/busybox", "elf")
            .HardLink("bin/ls", "bin/busybox")
            .HardLink("bin/cat", "./bin/busybox")
            .Build();

        await UnpackAsync(layer);

        ulong inode = Stat(At("bin/busybox")).Inode;
        Assert.Equal(inode, Stat(At("bin/ls")).Inode);
        Assert.Equal(inode, Stat(At("bin/cat")).Inode);
        Assert.Equal(3u, Stat(At("bin/busybox")).LinkCount);
    }

    [Fact]
    public async Task AppliesPaxXattrsButNeverOverlayOnes()
    {
        Layer layer = new LayerBuilder()
            .File("f", "x", pax: [new("SCHILY.xattr.user.note", "hello"), new("SCHILY.xattr.trusted.overlay.redirect", "/etc")])
            .File("g", "y", pax: [new("LIBARCHIVE.xattr.user.bin", Convert.ToBase64String([0, 1, 255]))])
            .Build();

        await UnpackAsync(layer);

        Assert.Equal("hello"u8.ToArray(), Libc.GetXattrNoFollow(At("f"), "user.note"));
        Assert.Null(Libc.GetXattrNoFollow(At("f"), "trusted.overlay.redirect"));
        Assert.Equal(new byte[] { 0, 1, 255 }, Libc.GetXattrNoFollow(At("g"), "user.bin"));
    }

    [Fact]
    public async Task LeavesOutABinaryXattrTheTarReaderCannotDecodeInsteadOfWritingItMangled()
    {
        Layer clean = new LayerBuilder()
            .File("ping", "elf", pax: [new("SCHILY.xattr.user.cap", "QQQQ"), new("SCHILY.xattr.user.text", "fine")])
            .Build(LayerCompression.None);
        byte[] tar = clean.Tar.ToArray();
        int at = tar.AsSpan().IndexOf("QQQQ"u8);
        new byte[] { 0xFF, 0x01, 0x02, 0xFE }.CopyTo(tar, at); // a binary value, as file capabilities are
        var descriptor = new Descriptor(MediaTypes.OciLayer, Crisp.ImageService.References.Digests.Sha256Of(tar), tar.Length);

        await _unpacker.UnpackAsync(new MemoryStream(tar), descriptor, Crisp.ImageService.References.Digests.Sha256Of(tar),
            _root.Target, "layer under test", CancellationToken.None);

        Assert.Null(Libc.GetXattrNoFollow(At("ping"), "user.cap"));
        Assert.Equal("fine"u8.ToArray(), Libc.GetXattrNoFollow(At("ping"), "user.text"));
    }

    [Fact]
    public async Task TurnsWhiteoutsIntoOverlayCharacterDevices()
    {
        Layer layer = new LayerBuilder()
            .Directory("etc/")
            .File("etc/.wh.motd", "")
            .File(".wh.gone-dir", "")
            .Build();

        await UnpackAsync(layer);

        foreach (string hidden in new[] { "etc/motd", "gone-dir" })
        {
            Libc.EntryStatus whiteout = Stat(At(hidden));
            Assert.Equal((Libc.SIfChr, 0u, 0u), (whiteout.FileType, whiteout.DeviceMajor, whiteout.DeviceMinor));
        }
        Assert.False(File.Exists(At("etc/.wh.motd")));
        Assert.Null(Libc.StatNoFollow(At("etc/.wh.motd")));
    }

    [Fact]
    public async Task LaterEntriesReplaceEarlierOnes()
    {
        Layer layer = new LayerBuilder()
            .File("a", "first")
            .File("a", "second")
            .Directory("d/")
            .File("d/inner", "gone")
            .File("d", "now a file")
            .Build();

        await UnpackAsync(layer);

        Assert.Equal("second", File.ReadAllText(At("a")));
        Assert.Equal("now a file", File.ReadAllText(At("d")));
    }

    [Fact]
    public async Task ADirectoryEntryReplacesASymlinkInsteadOfFollowingIt()
    {
        Layer layer = new LayerBuilder()
            .Symlink("evil", _root.Outside)
            .Directory("evil/")
            .File("evil/passwd", "inside")
            .Build();

        await UnpackAsync(layer);

        Assert.True(Stat(At("evil")).IsDirectory);
        Assert.Equal("inside", File.ReadAllText(At("evil/passwd")));
        _root.AssertOutsideUnchanged();
    }

    [Fact]
    public async Task AFileEntryReplacesASymlinkInsteadOfWritingThroughIt()
    {
        Layer layer = new LayerBuilder()
            .Symlink("victim", Path.Combine(_root.Outside, "passwd"))
            .File("victim", "overwritten?")
            .Build();

        await UnpackAsync(layer);

        Assert.Equal("overwritten?", File.ReadAllText(At("victim")));
        Assert.True(Stat(At("victim")).IsRegularFile);
        _root.AssertOutsideUnchanged();
    }

    public static TheoryData<string, Func<TempRoot, LayerBuilder>> HostileLayers => new()
    {
        { "dot-dot", _ => new LayerBuilder().File("../x", "pwned") },
        { "nested dot-dot", _ => new LayerBuilder().File("a/../../x", "pwned") },
        { "dot-dot directory", _ => new LayerBuilder().Directory("../outside/newdir/") },
        { "absolute", _ => new LayerBuilder().File("/etc/crisp-test-pwned", "pwned") },
        { "absolute into outside", root => new LayerBuilder().File(Path.Combine(root.Outside, "passwd"), "pwned") },
        { "symlink to outside then file through it", root => new LayerBuilder().Symlink("evil", root.Outside).File("evil/passwd", "pwned") },
        { "symlink to /etc then file through it", _ => new LayerBuilder().Symlink("evil", "/etc").File("evil/crisp-test-pwned", "pwned") },
        { "relative symlink climbing out", _ => new LayerBuilder().Directory("d/").Symlink("d/up", "../..").File("d/up/x", "pwned") },
        { "symlink to dot-dot chain", _ => new LayerBuilder().Symlink("l1", "..").Symlink("l2", "l1/..").File("l2/x", "pwned") },
        { "symlink then directory through it", root => new LayerBuilder().Symlink("evil", root.Outside).Directory("evil/sub/") },
        { "symlink then symlink through it", root => new LayerBuilder().Symlink("evil", root.Outside).Symlink("evil/link", "/") },
        { "symlink then device through it", root => new LayerBuilder().Symlink("evil", root.Outside).Device("evil/null", TarEntryType.CharacterDevice, 1, 3) },
        { "hardlink to dot-dot", _ => new LayerBuilder().HardLink("passwd", "../../etc/passwd") },
        { "hardlink to absolute", _ => new LayerBuilder().HardLink("passwd", "/etc/passwd") },
        { "hardlink through symlink", root => new LayerBuilder().Symlink("evil", root.Outside).HardLink("stolen", "evil/passwd") },
        { "hardlink to a file not in the layer", _ => new LayerBuilder().HardLink("stolen", "etc/shadow") },
        { "whiteout through symlink", root => new LayerBuilder().Symlink("evil", root.Outside).File("evil/.wh.passwd", "") },
        { "opaque through symlink", root => new LayerBuilder().Symlink("evil", root.Outside).File("evil/.wh..wh..opq", "") },
        { "whiteout of dot-dot", _ => new LayerBuilder().File("a/.wh...", "") },
    };

    [Theory]
    [MemberData(nameof(HostileLayers))]
    public async Task RefusesEntriesThatEscapeAndWritesNothingOutside(string name, Func<TempRoot, LayerBuilder> build)
    {
        Layer layer = build(_root).Build();
        bool etcBefore = File.Exists("/etc/crisp-test-pwned");

        var error = await Assert.ThrowsAsync<ImageServiceException>(() => UnpackAsync(layer));

        Assert.Equal(ImageErrorKind.DataLoss, error.Kind);
        Assert.Contains("layer under test: refused entry", error.Message);
        _root.AssertOutsideUnchanged();
        Assert.False(!etcBefore && File.Exists("/etc/crisp-test-pwned"), name);
        Assert.Equal("root:x:0:0\n", File.ReadAllText(Path.Combine(_root.Outside, "passwd")));
    }

    [Fact]
    public async Task RefusalNamesTheEntry()
    {
        Layer layer = new LayerBuilder().Symlink("evil", "/etc").File("evil/passwd", "x").Build();

        var error = await Assert.ThrowsAsync<ImageServiceException>(() => UnpackAsync(layer));

        Assert.Contains("\"evil/passwd\"", error.Message);
        Assert.Contains("symlink \"evil\"", error.Message);
    }

    [Fact]
    public async Task AWrongLayerDigestFailsWithDataLoss()
    {
        Layer layer = new LayerBuilder().File("f", "content").Build();
        var wrong = layer.Descriptor with { Digest = "sha256:" + new string('0', 64) };

        var error = await Assert.ThrowsAsync<ImageServiceException>(() => UnpackAsync(layer, descriptor: wrong));

        Assert.Equal(ImageErrorKind.DataLoss, error.Kind);
        Assert.Contains($"digest mismatch (got {layer.Descriptor.Digest})", error.Message);
    }

    [Fact]
    public async Task ATruncatedLayerFailsWithDataLoss()
    {
        Layer layer = new LayerBuilder().File("f", new string('z', 100_000)).Build(LayerCompression.None);

        var error = await Assert.ThrowsAsync<ImageServiceException>(() => UnpackAsync(layer, blob: layer.Blob[..(layer.Blob.Length / 2)]));

        Assert.Equal(ImageErrorKind.DataLoss, error.Kind);
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public async Task ATruncatedGzipLayerFailsWithDataLoss()
    {
        Layer layer = new LayerBuilder().File("f", new string('z', 100_000)).Build(LayerCompression.Gzip);

        var error = await Assert.ThrowsAsync<ImageServiceException>(() => UnpackAsync(layer, blob: layer.Blob[..(layer.Blob.Length - 10)]));

        Assert.Equal(ImageErrorKind.DataLoss, error.Kind);
    }

    [Fact]
    public async Task ALongerBlobThanItsDescriptorFails()
    {
        Layer layer = new LayerBuilder().File("f", "content").Build(LayerCompression.None);
        byte[] longer = [.. layer.Blob, .. new byte[1024]];

        var error = await Assert.ThrowsAsync<ImageServiceException>(() => UnpackAsync(layer, blob: longer));

        Assert.Equal(ImageErrorKind.DataLoss, error.Kind);
        Assert.Contains("size mismatch", error.Message);
    }

    [Fact]
    public async Task AWrongDiffIdFailsWithDataLoss()
    {
        Layer layer = new LayerBuilder().File("f", "content").Build();
        string wrong = "sha256:" + new string('1', 64);

        var error = await Assert.ThrowsAsync<ImageServiceException>(() => UnpackAsync(layer, diffId: wrong));

        Assert.Equal(ImageErrorKind.DataLoss, error.Kind);
        Assert.Contains("diff ID", error.Message);
        Assert.Contains(layer.DiffId, error.Message);
    }

    [Fact]
    public async Task GarbageInsteadOfGzipFailsWithDataLoss()
    {
        byte[] garbage = Encoding.ASCII.GetBytes(new string('q', 4096));
        var descriptor = new Descriptor(MediaTypes.OciLayerGzip, Crisp.ImageService.References.Digests.Sha256Of(garbage), garbage.Length);

        var error = await Assert.ThrowsAsync<ImageServiceException>(() =>
            _unpacker.UnpackAsync(new MemoryStream(garbage), descriptor, "sha256:" + new string('2', 64), _root.Target, "layer under test", CancellationToken.None));

        Assert.Equal(ImageErrorKind.DataLoss, error.Kind);
    }

    [Fact]
    public async Task AFileWhoseHeaderClaimsMoreThanArrivesReservesNoDiskForTheClaim()
    {
        const long claimed = 16 * 1024 * 1024;
        byte[] marker = "data that really arrived"u8.ToArray();
        byte[] payload = new byte[claimed];
        marker.CopyTo(payload, 0);
        using var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
        {
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "big") { DataStream = new MemoryStream(payload) });
        }
        byte[] bytes = tar.ToArray();
        int dataStart = bytes.AsSpan().IndexOf(marker);
        byte[] truncated = bytes[..(dataStart + marker.Length)];

        // Extracted directly: the unpacker would refuse the blob's size before the tar reader saw the header.
        var extractor = new LayerExtractor(_root.Target, NullLogger.Instance);
        await Assert.ThrowsAnyAsync<Exception>(() => extractor.ExtractAsync(new MemoryStream(truncated), CancellationToken.None));

        Libc.EntryStatus big = Stat(At("big"));
        Assert.Equal((ulong)marker.Length, big.Size);
        Assert.InRange(big.Blocks * 512, 0UL, 64UL * 1024);
    }
}
