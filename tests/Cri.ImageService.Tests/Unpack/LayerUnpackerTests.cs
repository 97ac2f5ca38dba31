using System.Formats.Tar;
using System.Text;
using Crisp.ImageService.Api;
using Crisp.ImageService.Manifests;
using Crisp.ImageService.Unpack;
using Crisp.Interop;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;
using LayerCompression = Crisp.TestSupport.Layers.LayerCompression;

namespace Crisp.ImageService.Tests.Unpack;

public sealed class LayerUnpackerTests : IDisposable
{
    private readonly TempRoot _root = new();
    private readonly LayerUnpacker _unpacker = new(NullLogger<LayerUnpacker>.Instance);

    public void Dispose() => _root.Dispose();

    private Task<LayerUnpacker.Result> UnpackAsync(CompressedLayer layer, string? diffId = null, Descriptor? descriptor = null, byte[]? blob = null) =>
        _unpacker.UnpackAsync(new MemoryStream(blob ?? layer.Blob.ToArray()), descriptor ?? layer.Descriptor.ToManifestDescriptor(), diffId ?? layer.Descriptor.DiffId,
            _root.Target, "layer under test", CancellationToken.None);

    private string At(string relative) => Path.Combine(_root.Target, relative);

    private static Libc.EntryStatus Stat(string path) => Libc.StatNoFollow(path) ?? throw new Xunit.Sdk.XunitException($"{path} does not exist");

    [Theory]
    [InlineData(LayerCompression.Gzip)]
    [InlineData(LayerCompression.Zstd)]
    [InlineData(LayerCompression.None)]
    public async Task UnpacksEveryCompression(LayerCompression compression)
    {
        CompressedLayer layer = LayerBuilder.OwnedByCurrentUser().AddDirectory("etc/").AddFile("etc/hostname", "box\n").Build(compression);

        LayerUnpacker.Result result = await UnpackAsync(layer);

        Assert.Equal("box\n", File.ReadAllText(At("etc/hostname")));
        Assert.Equal(layer.Blob.Length, result.CompressedBytes);
        Assert.Equal(compression == LayerCompression.None ? layer.Blob.Length : result.UncompressedBytes, result.UncompressedBytes);
        Assert.Equal(2, result.Entries);
        _root.AssertOutsideUnchanged();
    }

    [Fact]
    public async Task CreatesMissingParentDirectories()
    {
        CompressedLayer layer = LayerBuilder.OwnedByCurrentUser().AddFile("a/b/c/file", "deep").Build();

        await UnpackAsync(layer);

        Assert.Equal("deep", File.ReadAllText(At("a/b/c/file")));
        Assert.True(Stat(At("a/b")).IsDirectory);
    }

    [Fact]
    public async Task HardLinksShareTheTargetsInode()
    {
        CompressedLayer layer = LayerBuilder.OwnedByCurrentUser()
            .AddFile("bin/busybox", "elf")
            .AddHardLink("bin/ls", "bin/busybox")
            .AddHardLink("bin/cat", "./bin/busybox")
            .Build();

        await UnpackAsync(layer);

        ulong inode = Stat(At("bin/busybox")).Inode;
        Assert.Equal(inode, Stat(At("bin/ls")).Inode);
        Assert.Equal(inode, Stat(At("bin/cat")).Inode);
        Assert.Equal(3u, Stat(At("bin/busybox")).LinkCount);
    }

    [Fact]
    public async Task AHardLinksHeaderModeAppliesToTheSharedInodeAsInContainerd()
    {
        CompressedLayer layer = LayerBuilder.OwnedByCurrentUser()
            .AddFile("bin/tool", "elf")
            .AddRawEntry(TarEntryType.HardLink, "bin/tool-link", linkName: "bin/tool", mode: LayerBuilder.ExecutableMode)
            .Build();

        await UnpackAsync(layer);

        Assert.Equal(LayerBuilder.ExecutableMode, File.GetUnixFileMode(At("bin/tool")));
        Assert.Equal(Stat(At("bin/tool")).Inode, Stat(At("bin/tool-link")).Inode);
    }

    [Fact]
    public async Task AppliesPaxXattrsButNeverOverlayOnes()
    {
        CompressedLayer layer = LayerBuilder.OwnedByCurrentUser()
            .AddFile("f", "x", paxAttributes: new Dictionary<string, string> { ["SCHILY.xattr.user.note"] = "hello", ["SCHILY.xattr.trusted.overlay.redirect"] = "/etc" })
            .AddFile("g", "y", paxAttributes: new Dictionary<string, string> { ["LIBARCHIVE.xattr.user.bin"] = Convert.ToBase64String([0, 1, 255]) })
            .Build();

        await UnpackAsync(layer);

        Assert.Equal("hello"u8.ToArray(), Libc.GetXattrNoFollow(At("f"), "user.note"));
        Assert.Null(Libc.GetXattrNoFollow(At("f"), "trusted.overlay.redirect"));
        Assert.Equal(new byte[] { 0, 1, 255 }, Libc.GetXattrNoFollow(At("g"), "user.bin"));
    }

    [Fact]
    public async Task LeavesOutABinaryXattrTheTarReaderCannotDecodeInsteadOfWritingItMangled()
    {
        byte[] tar = LayerBuilder.OwnedByCurrentUser()
            .AddFile("ping", "elf", paxAttributes: new Dictionary<string, string> { ["SCHILY.xattr.user.cap"] = "QQQQ", ["SCHILY.xattr.user.text"] = "fine" })
            .BuildTar();
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
        CompressedLayer layer = LayerBuilder.OwnedByCurrentUser()
            .AddDirectory("etc/")
            .AddWhiteout("etc/motd")
            .AddWhiteout("gone-dir")
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
        CompressedLayer layer = LayerBuilder.OwnedByCurrentUser()
            .AddFile("a", "first")
            .AddFile("a", "second")
            .AddDirectory("d/")
            .AddFile("d/inner", "gone")
            .AddFile("d", "now a file")
            .Build();

        await UnpackAsync(layer);

        Assert.Equal("second", File.ReadAllText(At("a")));
        Assert.Equal("now a file", File.ReadAllText(At("d")));
    }

    [Fact]
    public async Task ADirectoryEntryReplacesASymlinkInsteadOfFollowingIt()
    {
        CompressedLayer layer = LayerBuilder.OwnedByCurrentUser()
            .AddSymlink("evil", _root.Outside)
            .AddDirectory("evil/")
            .AddFile("evil/passwd", "inside")
            .Build();

        await UnpackAsync(layer);

        Assert.True(Stat(At("evil")).IsDirectory);
        Assert.Equal("inside", File.ReadAllText(At("evil/passwd")));
        _root.AssertOutsideUnchanged();
    }

    [Fact]
    public async Task AFileEntryReplacesASymlinkInsteadOfWritingThroughIt()
    {
        CompressedLayer layer = LayerBuilder.OwnedByCurrentUser()
            .AddSymlink("victim", Path.Combine(_root.Outside, "passwd"))
            .AddFile("victim", "overwritten?")
            .Build();

        await UnpackAsync(layer);

        Assert.Equal("overwritten?", File.ReadAllText(At("victim")));
        Assert.True(Stat(At("victim")).IsRegularFile);
        _root.AssertOutsideUnchanged();
    }

    public static TheoryData<string, Func<TempRoot, LayerBuilder>> HostileLayers => new()
    {
        { "dot-dot", _ => LayerBuilder.OwnedByCurrentUser().AddFile("../x", "pwned") },
        { "nested dot-dot", _ => LayerBuilder.OwnedByCurrentUser().AddFile("a/../../x", "pwned") },
        { "dot-dot directory", _ => LayerBuilder.OwnedByCurrentUser().AddDirectory("../outside/newdir/") },
        { "absolute", _ => LayerBuilder.OwnedByCurrentUser().AddRawEntry(TarEntryType.RegularFile, "/etc/crisp-test-pwned", content: "pwned"u8.ToArray()) },
        { "absolute into outside", root => LayerBuilder.OwnedByCurrentUser().AddRawEntry(TarEntryType.RegularFile, Path.Combine(root.Outside, "passwd"), content: "pwned"u8.ToArray()) },
        { "symlink to outside then file through it", root => LayerBuilder.OwnedByCurrentUser().AddSymlink("evil", root.Outside).AddFile("evil/passwd", "pwned") },
        { "symlink to /etc then file through it", _ => LayerBuilder.OwnedByCurrentUser().AddSymlink("evil", "/etc").AddFile("evil/crisp-test-pwned", "pwned") },
        { "relative symlink climbing out", _ => LayerBuilder.OwnedByCurrentUser().AddDirectory("d/").AddSymlink("d/up", "../..").AddFile("d/up/x", "pwned") },
        { "symlink to dot-dot chain", _ => LayerBuilder.OwnedByCurrentUser().AddSymlink("l1", "..").AddSymlink("l2", "l1/..").AddFile("l2/x", "pwned") },
        { "symlink then directory through it", root => LayerBuilder.OwnedByCurrentUser().AddSymlink("evil", root.Outside).AddDirectory("evil/sub/") },
        { "symlink then symlink through it", root => LayerBuilder.OwnedByCurrentUser().AddSymlink("evil", root.Outside).AddSymlink("evil/link", "/") },
        { "symlink then device through it", root => LayerBuilder.OwnedByCurrentUser().AddSymlink("evil", root.Outside).AddCharacterDevice("evil/null", 1, 3) },
        { "hardlink to dot-dot", _ => LayerBuilder.OwnedByCurrentUser().AddHardLink("passwd", "../../etc/passwd") },
        { "hardlink to absolute", _ => LayerBuilder.OwnedByCurrentUser().AddRawEntry(TarEntryType.HardLink, "passwd", linkName: "/etc/passwd") },
        { "hardlink through symlink", root => LayerBuilder.OwnedByCurrentUser().AddSymlink("evil", root.Outside).AddHardLink("stolen", "evil/passwd") },
        { "hardlink to a file not in the layer", _ => LayerBuilder.OwnedByCurrentUser().AddHardLink("stolen", "etc/shadow") },
        { "whiteout through symlink", root => LayerBuilder.OwnedByCurrentUser().AddSymlink("evil", root.Outside).AddWhiteout("evil/passwd") },
        { "opaque through symlink", root => LayerBuilder.OwnedByCurrentUser().AddSymlink("evil", root.Outside).AddOpaqueWhiteout("evil") },
        { "whiteout of dot-dot", _ => LayerBuilder.OwnedByCurrentUser().AddFile("a/.wh...", "") },
    };

    [Theory]
    [MemberData(nameof(HostileLayers))]
    public async Task RefusesEntriesThatEscapeAndWritesNothingOutside(string name, Func<TempRoot, LayerBuilder> build)
    {
        CompressedLayer layer = build(_root).Build();
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
        CompressedLayer layer = LayerBuilder.OwnedByCurrentUser().AddSymlink("evil", "/etc").AddFile("evil/passwd", "x").Build();

        var error = await Assert.ThrowsAsync<ImageServiceException>(() => UnpackAsync(layer));

        Assert.Contains("\"evil/passwd\"", error.Message);
        Assert.Contains("symlink \"evil\"", error.Message);
    }

    [Fact]
    public async Task AWrongLayerDigestFailsWithDataLoss()
    {
        CompressedLayer layer = LayerBuilder.OwnedByCurrentUser().AddFile("f", "content").Build();
        var wrong = layer.Descriptor.ToManifestDescriptor() with { Digest = "sha256:" + new string('0', 64) };

        var error = await Assert.ThrowsAsync<ImageServiceException>(() => UnpackAsync(layer, descriptor: wrong));

        Assert.Equal(ImageErrorKind.DataLoss, error.Kind);
        Assert.Contains($"digest mismatch (got {layer.Descriptor.Digest})", error.Message);
    }

    [Fact]
    public async Task ATruncatedLayerFailsWithDataLoss()
    {
        CompressedLayer layer = LayerBuilder.OwnedByCurrentUser().AddFile("f", new string('z', 100_000)).Build(LayerCompression.None);

        var error = await Assert.ThrowsAsync<ImageServiceException>(() => UnpackAsync(layer, blob: layer.Blob[..(layer.Blob.Length / 2)].ToArray()));

        Assert.Equal(ImageErrorKind.DataLoss, error.Kind);
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public async Task ATruncatedGzipLayerFailsWithDataLoss()
    {
        CompressedLayer layer = LayerBuilder.OwnedByCurrentUser().AddFile("f", new string('z', 100_000)).Build(LayerCompression.Gzip);

        var error = await Assert.ThrowsAsync<ImageServiceException>(() => UnpackAsync(layer, blob: layer.Blob[..(layer.Blob.Length - 10)].ToArray()));

        Assert.Equal(ImageErrorKind.DataLoss, error.Kind);
    }

    [Fact]
    public async Task ALongerBlobThanItsDescriptorFails()
    {
        CompressedLayer layer = LayerBuilder.OwnedByCurrentUser().AddFile("f", "content").Build(LayerCompression.None);
        byte[] longer = [.. layer.Blob.ToArray(), .. new byte[1024]];

        var error = await Assert.ThrowsAsync<ImageServiceException>(() => UnpackAsync(layer, blob: longer));

        Assert.Equal(ImageErrorKind.DataLoss, error.Kind);
        Assert.Contains("size mismatch", error.Message);
    }

    // An uncompressed layer's diff ID is checked against its verified blob digest rather than hashed a second time.
    [Theory]
    [InlineData(LayerCompression.Gzip)]
    [InlineData(LayerCompression.Zstd)]
    [InlineData(LayerCompression.None)]
    public async Task AWrongDiffIdFailsWithDataLoss(LayerCompression compression)
    {
        CompressedLayer layer = LayerBuilder.OwnedByCurrentUser().AddFile("f", "content").Build(compression);
        string wrong = "sha256:" + new string('1', 64);

        var error = await Assert.ThrowsAsync<ImageServiceException>(() => UnpackAsync(layer, diffId: wrong));

        Assert.Equal(ImageErrorKind.DataLoss, error.Kind);
        Assert.Contains("diff ID", error.Message);
        Assert.Contains(layer.Descriptor.DiffId, error.Message);
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
