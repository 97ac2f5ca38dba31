using System.Formats.Tar;
using System.Text.Json;
using Crisp.E2E.Fixtures;
using Xunit;

namespace Crisp.E2E.FixtureTests;

public sealed class OciImageBuilderTests
{
    public static TheoryData<string> AllImages() => new(TestImageNames.All);

    [Theory]
    [MemberData(nameof(AllImages))]
    public async Task Every_catalogue_image_is_a_consistent_oci_layout(string name)
    {
        var image = await TestImages.GetAsync(name);

        Assert.Equal("{\"imageLayoutVersion\":\"1.0.0\"}", File.ReadAllText(Path.Combine(image.LayoutDirectory, "oci-layout")));
        using var index = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(image.LayoutDirectory, "index.json")));
        var top = Assert.Single(index.RootElement.GetProperty("manifests").EnumerateArray());
        Assert.Equal(image.ManifestDigest, top.GetProperty("digest").GetString());
        Assert.Equal(image.ManifestMediaType, top.GetProperty("mediaType").GetString());
        Assert.Equal(image.Tag, top.GetProperty("annotations").GetProperty(OciMediaTypes.RefNameAnnotation).GetString());

        foreach (var blob in Directory.EnumerateFiles(Path.Combine(image.LayoutDirectory, "blobs", "sha256")))
        {
            Assert.Equal("sha256:" + Path.GetFileName(blob), Sha256Digest.Of(File.ReadAllBytes(blob)));
        }

        var manifests = image.IsIndex ? image.PlatformImages : [image];
        foreach (var platformImage in manifests)
        {
            AssertManifestMatches(platformImage);
        }
    }

    [Fact]
    public async Task Busybox_rootfs_has_hard_linked_applets_users_and_sticky_tmp()
    {
        var image = await TestImages.Busybox;
        var layer = Assert.Single(image.Layers);
        Assert.Equal(OciMediaTypes.LayerGzip, layer.MediaType);
        var entries = LayoutReader.Entries(LayoutReader.Decompress(LayoutReader.Blob(image, layer.Digest), layer.MediaType)).ToDictionary(e => e.Name);

        var busybox = entries["bin/busybox"];
        Assert.Equal(TarEntryType.RegularFile, busybox.EntryType);
        Assert.Equal(new FileInfo(BusyboxRootfs.BusyboxPath).Length, busybox.Length);
        foreach (var applet in BusyboxRootfs.RequiredApplets)
        {
            var link = entries["bin/" + applet];
            Assert.Equal(TarEntryType.HardLink, link.EntryType);
            Assert.Equal("bin/busybox", link.LinkName);
        }

        Assert.Contains("app:x:1000:1000:app:/home/app:/bin/sh", LayoutReader.Text(entries["etc/passwd"]));
        Assert.Contains("extra:x:2000:app", LayoutReader.Text(entries["etc/group"]));
        Assert.True(entries["tmp/"].Mode.HasFlag(UnixFileMode.StickyBit));
        Assert.Equal(1000, entries["home/app/"].Uid);
        Assert.Equal(TestImageFacts.Busybox.Cmd, image.Config.Cmd);
    }

    [Fact]
    public async Task Rebuilding_an_image_reproduces_its_digests()
    {
        var first = await TestImages.Busybox;
        var directory = Directory.CreateTempSubdirectory("crisp-fixture-rebuild-").FullName;
        try
        {
            var again = await new OciImageBuilder(new ImageConfigSpec { Cmd = TestImageFacts.Busybox.Cmd })
                .AddLayer(BusyboxRootfs.AddTo(new LayerBuilder()))
                .WriteLayoutAsync(directory, "latest", "rebuild");

            Assert.Equal(first.ManifestDigest, again.ManifestDigest);
            Assert.Equal(first.ConfigDigest, again.ConfigDigest);
            Assert.Equal(first.LayerDigests, again.LayerDigests);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Config_carries_user_env_workdir_entrypoint_cmd_labels_and_stop_signal()
    {
        using (var config = LayoutReader.Json(await TestImages.GetAsync(TestImageNames.UserUidGid), (await TestImages.GetAsync(TestImageNames.UserUidGid)).ConfigDigest))
        {
            Assert.Equal("1000:2000", config.RootElement.GetProperty("config").GetProperty("User").GetString());
        }

        var envImage = await TestImages.GetAsync(TestImageNames.EnvWorkdir);
        using (var config = LayoutReader.Json(envImage, envImage.ConfigDigest))
        {
            var body = config.RootElement.GetProperty("config");
            Assert.Equal(TestImageFacts.EnvWorkdir.Env, body.GetProperty("Env").EnumerateArray().Select(e => e.GetString()!).ToArray());
            Assert.Equal("/work", body.GetProperty("WorkingDir").GetString());
        }

        var entrypointImage = await TestImages.GetAsync(TestImageNames.EntrypointCmd);
        using (var config = LayoutReader.Json(entrypointImage, entrypointImage.ConfigDigest))
        {
            var body = config.RootElement.GetProperty("config");
            Assert.Equal(["/bin/echo", "entry"], body.GetProperty("Entrypoint").EnumerateArray().Select(e => e.GetString()!).ToArray());
            Assert.Equal(["cmd"], body.GetProperty("Cmd").EnumerateArray().Select(e => e.GetString()!).ToArray());
        }

        var labelsImage = await TestImages.GetAsync(TestImageNames.LabelsStopSignal);
        using (var config = LayoutReader.Json(labelsImage, labelsImage.ConfigDigest))
        {
            var body = config.RootElement.GetProperty("config");
            Assert.Equal("SIGUSR1", body.GetProperty("StopSignal").GetString());
            Assert.Equal("hello", body.GetProperty("Labels").GetProperty("io.crisp.test.label").GetString());
            Assert.Equal("linux", config.RootElement.GetProperty("os").GetString());
            Assert.Equal(OciPlatform.Host.Architecture, config.RootElement.GetProperty("architecture").GetString());
        }
    }

    [Fact]
    public async Task Compression_variants_share_the_base_diff_id_but_not_the_blob()
    {
        var gzip = await TestImages.Busybox;
        var zstd = await TestImages.GetAsync(TestImageNames.Zstd);
        var plain = await TestImages.GetAsync(TestImageNames.Uncompressed);

        Assert.All(zstd.Layers, l => Assert.Equal(OciMediaTypes.LayerZstd, l.MediaType));
        Assert.All(plain.Layers, l => Assert.Equal(OciMediaTypes.Layer, l.MediaType));
        Assert.All(plain.Layers, l => Assert.Equal(l.DiffId, l.Digest));
        Assert.Equal(gzip.DiffIds[0], zstd.DiffIds[0]);
        Assert.Equal(gzip.DiffIds[0], plain.DiffIds[0]);
        Assert.NotEqual(gzip.LayerDigests[0], zstd.LayerDigests[0]);
        Assert.NotEqual(gzip.LayerDigests[0], plain.LayerDigests[0]);
        var zstdMarker = LayoutReader.Entries(LayoutReader.Decompress(LayoutReader.Blob(zstd, zstd.LayerDigests[1]), OciMediaTypes.LayerZstd));
        Assert.Equal(TestImageFacts.Zstd.MarkerContent, LayoutReader.Text(Assert.Single(zstdMarker)));
    }

    [Fact]
    public async Task Whiteout_layer_deletes_a_file_and_a_directory_and_makes_a_directory_opaque()
    {
        var image = await TestImages.Whiteouts;
        Assert.Equal(TestImageFacts.Whiteouts.LayerCount, image.Layers.Count);
        var top = image.Layers[^1];
        var names = LayoutReader.Entries(LayoutReader.Decompress(LayoutReader.Blob(image, top.Digest), top.MediaType)).Select(e => e.Name).ToList();

        Assert.Contains("data/.wh.gone.txt", names);
        Assert.Contains("data/.wh.gonedir", names);
        Assert.Contains("opaque/.wh..wh..opq", names);
        Assert.Contains("opaque/new.txt", names);
    }

    [Fact]
    public async Task Symlinks_and_special_files_images_carry_their_entries()
    {
        var symlinks = await TestImages.GetAsync(TestImageNames.Symlinks);
        var links = LayoutReader.Entries(LayoutReader.Decompress(LayoutReader.Blob(symlinks, symlinks.LayerDigests[1]), symlinks.Layers[1].MediaType)).ToDictionary(e => e.Name);
        Assert.Equal("/data", links["srv"].LinkName);
        Assert.Equal(TarEntryType.SymbolicLink, links["data/abs-link"].EntryType);
        Assert.Equal("/data/target.txt", links["data/abs-link"].LinkName);
        var through = Assert.Single(LayoutReader.Entries(LayoutReader.Decompress(LayoutReader.Blob(symlinks, symlinks.LayerDigests[2]), symlinks.Layers[2].MediaType)));
        Assert.Equal("srv/through.txt", through.Name);

        var special = await TestImages.GetAsync(TestImageNames.SpecialFiles);
        var entries = LayoutReader.Entries(LayoutReader.Decompress(LayoutReader.Blob(special, special.LayerDigests[1]), special.Layers[1].MediaType)).ToDictionary(e => e.Name);
        var device = (PosixTarEntry)entries["dev/crisp-null"];
        Assert.Equal((TarEntryType.CharacterDevice, 1, 3), (device.EntryType, device.DeviceMajor, device.DeviceMinor));
        Assert.Equal(TarEntryType.Fifo, entries["data/fifo"].EntryType);
        Assert.True(entries["data/setuid"].Mode.HasFlag(UnixFileMode.SetUser));
        Assert.Equal((1000, 2000), (entries["data/owned"].Uid, entries["data/owned"].Gid));
        Assert.Equal(TestImageFacts.SpecialFiles.PrivateMode, entries["data/private/"].Mode);
        Assert.True(entries["data/sticky/"].Mode.HasFlag(UnixFileMode.StickyBit));
    }

    [Fact]
    public async Task Multiplatform_index_has_a_runnable_host_image_and_a_foreign_one()
    {
        var image = await TestImages.Multiplatform;
        Assert.True(image.IsIndex);
        Assert.Equal(2, image.PlatformImages.Count);
        var host = image.ForPlatform(OciPlatform.Host);
        var foreign = image.ForPlatform(OciPlatform.Foreign);
        Assert.Equal(host.ConfigDigest, image.ConfigDigest);
        Assert.NotEqual(host.ConfigDigest, foreign.ConfigDigest);
        Assert.Contains(StandardBaseDiffId(await TestImages.Busybox), host.DiffIds);
        Assert.Single(foreign.Layers);

        using var index = LayoutReader.Json(image, image.ManifestDigest);
        var platforms = index.RootElement.GetProperty("manifests").EnumerateArray()
            .Select(m => m.GetProperty("platform").GetProperty("architecture").GetString()!)
            .ToArray();
        Assert.Equal([OciPlatform.Host.Architecture, OciPlatform.Foreign.Architecture], platforms);
    }

    [Fact]
    public async Task Large_image_has_five_incompressible_ten_mib_layers()
    {
        var image = await TestImages.Large;
        Assert.Equal(TestImageFacts.Large.DataLayerCount + 1, image.Layers.Count);
        Assert.All(image.Layers.Skip(1), l => Assert.True(l.Size > TestImageFacts.Large.BytesPerLayer, $"layer {l.Digest} is {l.Size} bytes"));
        Assert.Equal(image.Layers.Count, image.LayerDigests.Distinct().Count());
    }

    [Fact]
    public void Layer_builder_writes_links_devices_fifos_and_whiteouts()
    {
        var entries = LayoutReader.Entries(new LayerBuilder()
            .AddDirectory("/a/")
            .AddFile("/a/file", "x")
            .AddSymlink("a/sym", "/etc/passwd")
            .AddHardLink("a/hard", "/a/file")
            .AddCharacterDevice("dev/null2", 1, 3)
            .AddBlockDevice("dev/blk", 7, 0)
            .AddFifo("a/fifo")
            .AddWhiteout("a/removed")
            .AddOpaqueWhiteout("a")
            .BuildTar());

        Assert.Equal(
            ["a/", "a/file", "a/sym", "a/hard", "dev/null2", "dev/blk", "a/fifo", "a/.wh.removed", "a/.wh..wh..opq"],
            entries.Select(e => e.Name).ToArray());
        Assert.Equal("/etc/passwd", entries[2].LinkName);
        Assert.Equal("a/file", entries[3].LinkName);
        Assert.Equal(TarEntryType.CharacterDevice, entries[4].EntryType);
        Assert.Equal((1, 3), (((PosixTarEntry)entries[4]).DeviceMajor, ((PosixTarEntry)entries[4]).DeviceMinor));
        Assert.Equal(TarEntryType.BlockDevice, entries[5].EntryType);
        Assert.Equal(TarEntryType.Fifo, entries[6].EntryType);
    }

    [Theory]
    [InlineData(TarEntryFormat.Pax)]
    [InlineData(TarEntryFormat.Gnu)]
    [InlineData(TarEntryFormat.Ustar)]
    public void Layer_builder_writes_the_requested_tar_format_deterministically(TarEntryFormat format)
    {
        // Over 100 bytes, but splittable into ustar's prefix/name fields.
        var longName = "deep/" + new string('n', 90) + "/" + new string('m', 60);
        byte[] Build() => new LayerBuilder(format).AddDirectory("deep").AddFile(longName, "long").AddSymlink("s", "deep").BuildTar();

        var tar = Build();
        Assert.Equal(tar, Build());
        var entries = LayoutReader.Entries(tar);
        Assert.All(entries, e => Assert.Equal(format, e.Format));
        Assert.Equal(longName, entries[1].Name);
        Assert.Equal("long", LayoutReader.Text(entries[1]));
    }

    [Theory]
    [InlineData(TestImageNames.HostileDotDot, "../../")]
    [InlineData(TestImageNames.HostileAbsolute, "/tmp/crisp-hostile-")]
    [InlineData(TestImageNames.HostileSymlinkEscape, "escape-etc/crisp-hostile-")]
    [InlineData(TestImageNames.HostileHardlinkEscape, "leak-passwd")]
    public async Task Hostile_layers_keep_their_dangerous_names_verbatim(string name, string expectedFragment)
    {
        var hostile = await TestImages.GetHostileAsync(name);
        var top = hostile.Image.Layers[^1];
        var entries = LayoutReader.Entries(LayoutReader.Decompress(LayoutReader.Blob(hostile.Image, top.Digest), top.MediaType));

        Assert.Contains(entries, e => e.Name.Contains(expectedFragment, StringComparison.Ordinal));
        Assert.True(hostile.EscapedHostPaths.Count + hostile.HardLinksToHostFiles.Count > 0);
        Assert.All(hostile.EscapedHostPaths, p => Assert.False(Path.Exists(p), $"{p} exists before any test unpacked the image"));
        if (name == TestImageNames.HostileHardlinkEscape)
        {
            Assert.Contains(entries, e => e.EntryType == TarEntryType.HardLink && e.LinkName.StartsWith("../../", StringComparison.Ordinal));
        }
    }

    private static string StandardBaseDiffId(BuiltImage busybox) => busybox.DiffIds[0];

    private static void AssertManifestMatches(BuiltImage image)
    {
        using var manifest = LayoutReader.Json(image, image.ManifestDigest);
        var root = manifest.RootElement;
        Assert.Equal(OciMediaTypes.ImageManifest, root.GetProperty("mediaType").GetString());
        Assert.Equal(image.ConfigDigest, root.GetProperty("config").GetProperty("digest").GetString());
        Assert.Equal(image.LayerDigests, root.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("digest").GetString()!).ToArray());

        using var config = LayoutReader.Json(image, image.ConfigDigest);
        var diffIds = config.RootElement.GetProperty("rootfs").GetProperty("diff_ids").EnumerateArray().Select(d => d.GetString()!).ToArray();
        Assert.Equal(image.DiffIds, diffIds);
        foreach (var layer in image.Layers)
        {
            var blob = LayoutReader.Blob(image, layer.Digest);
            Assert.Equal(layer.Size, blob.Length);
            Assert.Equal(layer.DiffId, Sha256Digest.Of(LayoutReader.Decompress(blob, layer.MediaType)));
        }
    }
}
