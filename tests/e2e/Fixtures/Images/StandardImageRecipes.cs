namespace Crisp.E2E.Fixtures;

/// <summary>How each standard catalogue image is put together (see <see cref="TestImageFacts"/> for what they contain).</summary>
internal static class StandardImageRecipes
{
    private static readonly Lazy<byte[]> BaseTar = new(() => BusyboxRootfs.AddTo(new LayerBuilder()).BuildTar());

    // Most images share this exact blob, as real images share a base layer; crisp must dedupe it.
    private static readonly Lazy<CompressedLayer> BaseGzip = new(() => CompressedLayer.FromTar(BaseTar.Value, LayerCompression.Gzip));

    public static CompressedLayer BaseLayer => BaseGzip.Value;

    public static Task<BuiltImage> WriteAsync(string name, string directory, CancellationToken cancellationToken) => name switch
    {
        TestImageNames.Busybox => Single(Cmd(TestImageFacts.Busybox.Cmd)).WriteLayoutAsync(directory, "latest", name, cancellationToken),
        TestImageNames.Multilayer => Multilayer().WriteLayoutAsync(directory, "latest", name, cancellationToken),
        TestImageNames.UserUid => Single(Cmd(TestImageFacts.User.Cmd) with { User = TestImageFacts.User.UidImageUser }).WriteLayoutAsync(directory, "latest", name, cancellationToken),
        TestImageNames.UserName => Single(Cmd(TestImageFacts.User.Cmd) with { User = TestImageFacts.User.NameImageUser }).WriteLayoutAsync(directory, "latest", name, cancellationToken),
        TestImageNames.UserUidGid => Single(Cmd(TestImageFacts.User.Cmd) with { User = TestImageFacts.User.UidGidImageUser }).WriteLayoutAsync(directory, "latest", name, cancellationToken),
        TestImageNames.UserNameGroup => Single(Cmd(TestImageFacts.User.Cmd) with { User = TestImageFacts.User.NameGroupImageUser }).WriteLayoutAsync(directory, "latest", name, cancellationToken),
        TestImageNames.UserUnknown => Single(Cmd(TestImageFacts.User.Cmd) with { User = TestImageFacts.User.UnknownImageUser }).WriteLayoutAsync(directory, "latest", name, cancellationToken),
        TestImageNames.EnvWorkdir => EnvWorkdir().WriteLayoutAsync(directory, "latest", name, cancellationToken),
        TestImageNames.EntrypointCmd => Single(new ImageConfigSpec
        {
            Entrypoint = TestImageFacts.EntrypointCmd.Entrypoint,
            Cmd = TestImageFacts.EntrypointCmd.Cmd,
        }).WriteLayoutAsync(directory, "latest", name, cancellationToken),
        TestImageNames.LabelsStopSignal => Single(new ImageConfigSpec
        {
            Cmd = TestImageFacts.LabelsStopSignal.Cmd,
            Labels = TestImageFacts.LabelsStopSignal.Labels,
            StopSignal = TestImageFacts.LabelsStopSignal.StopSignal,
        }).WriteLayoutAsync(directory, "latest", name, cancellationToken),
        TestImageNames.Multiplatform => Multiplatform().WriteLayoutAsync(directory, "latest", name, cancellationToken),
        TestImageNames.Zstd => Recompressed(LayerCompression.Zstd, TestImageFacts.Zstd.MarkerFile, TestImageFacts.Zstd.MarkerContent).WriteLayoutAsync(directory, "latest", name, cancellationToken),
        TestImageNames.Uncompressed => Recompressed(LayerCompression.None, TestImageFacts.Uncompressed.MarkerFile, TestImageFacts.Uncompressed.MarkerContent).WriteLayoutAsync(directory, "latest", name, cancellationToken),
        TestImageNames.Whiteouts => Whiteouts().WriteLayoutAsync(directory, "latest", name, cancellationToken),
        TestImageNames.Symlinks => Symlinks().WriteLayoutAsync(directory, "latest", name, cancellationToken),
        TestImageNames.SpecialFiles => SpecialFiles().WriteLayoutAsync(directory, "latest", name, cancellationToken),
        TestImageNames.Large => Large().WriteLayoutAsync(directory, "latest", name, cancellationToken),
        _ => throw new ArgumentException($"no standard test image named '{name}' (known: {string.Join(", ", TestImageNames.Standard.Append(TestImageNames.Large))})", nameof(name)),
    };

    private static ImageConfigSpec Cmd(IReadOnlyList<string> cmd) => new() { Cmd = cmd };

    private static OciImageBuilder Single(ImageConfigSpec config) => new OciImageBuilder(config).AddLayer(BaseLayer);

    private static OciImageBuilder Multilayer()
    {
        return new OciImageBuilder(Cmd(TestImageFacts.Busybox.Cmd))
            .AddLayer(BaseLayer)
            .AddLayer(new LayerBuilder()
                .AddDirectory("layers")
                .AddFile(TestImageFacts.Multilayer.LayerTwoFile, TestImageFacts.Multilayer.LayerTwoContent)
                .AddFile(TestImageFacts.Multilayer.OverriddenFile, "from layer 2\n"))
            .AddLayer(new LayerBuilder()
                .AddDirectory("layers")
                .AddFile(TestImageFacts.Multilayer.LayerThreeFile, TestImageFacts.Multilayer.LayerThreeContent)
                .AddFile(TestImageFacts.Multilayer.OverriddenFile, TestImageFacts.Multilayer.OverriddenContent))
            .AddLayer(new LayerBuilder()
                .AddDirectory("layers")
                .AddFile(TestImageFacts.Multilayer.LayerFourFile, TestImageFacts.Multilayer.LayerFourContent));
    }

    private static OciImageBuilder EnvWorkdir() =>
        new OciImageBuilder(new ImageConfigSpec
        {
            Env = TestImageFacts.EnvWorkdir.Env,
            WorkingDir = TestImageFacts.EnvWorkdir.WorkingDir,
            Cmd = TestImageFacts.EnvWorkdir.Cmd,
        })
        .AddLayer(BaseLayer)
        .AddLayer(new LayerBuilder()
            .AddDirectory(TestImageFacts.EnvWorkdir.WorkingDir)
            .AddFile(TestImageFacts.EnvWorkdir.MarkerFile, TestImageFacts.EnvWorkdir.MarkerContent));

    private static OciIndexBuilder Multiplatform()
    {
        var host = new OciImageBuilder(Cmd(TestImageFacts.Busybox.Cmd))
            .AddLayer(BaseLayer)
            .AddLayer(new LayerBuilder().AddDirectory("etc").AddFile(TestImageFacts.Multiplatform.PlatformFile, TestImageFacts.Multiplatform.HostContent));
        var foreign = new OciImageBuilder(new ImageConfigSpec { Platform = OciPlatform.Foreign, Cmd = ["/foreign"] })
            .AddLayer(new LayerBuilder().AddFile(TestImageFacts.Multiplatform.ForeignFile, TestImageFacts.Multiplatform.ForeignContent));
        return new OciIndexBuilder().AddImage(host).AddImage(foreign);
    }

    private static OciImageBuilder Recompressed(LayerCompression compression, string markerFile, string markerContent) =>
        new OciImageBuilder(Cmd(TestImageFacts.Busybox.Cmd))
            .AddLayer(CompressedLayer.FromTar(BaseTar.Value, compression))
            .AddLayer(new LayerBuilder().AddFile(markerFile, markerContent), compression);

    private static OciImageBuilder Whiteouts()
    {
        var facts = TestImageFacts.Whiteouts.HiddenByOpaque;
        return new OciImageBuilder(Cmd(TestImageFacts.Busybox.Cmd))
            .AddLayer(BaseLayer)
            .AddLayer(new LayerBuilder()
                .AddDirectory("data")
                .AddFile(TestImageFacts.Whiteouts.KeptFile, TestImageFacts.Whiteouts.KeptContent)
                .AddFile(TestImageFacts.Whiteouts.DeletedFile, "to be deleted\n")
                .AddDirectory(TestImageFacts.Whiteouts.DeletedDirectory)
                .AddFile(TestImageFacts.Whiteouts.DeletedDirectory + "/inner.txt", "deleted with its directory\n")
                .AddDirectory(TestImageFacts.Whiteouts.OpaqueDirectory)
                .AddFile(facts[0], "hidden by opaque\n")
                .AddDirectory(TestImageFacts.Whiteouts.OpaqueDirectory + "/sub")
                .AddFile(facts[1], "hidden by opaque\n"))
            .AddLayer(new LayerBuilder()
                .AddDirectory("data")
                .AddWhiteout(TestImageFacts.Whiteouts.DeletedFile)
                .AddWhiteout(TestImageFacts.Whiteouts.DeletedDirectory)
                .AddDirectory(TestImageFacts.Whiteouts.OpaqueDirectory)
                .AddOpaqueWhiteout(TestImageFacts.Whiteouts.OpaqueDirectory)
                .AddFile(TestImageFacts.Whiteouts.AddedAfterOpaque, TestImageFacts.Whiteouts.AddedAfterOpaqueContent));
    }

    private static OciImageBuilder Symlinks() =>
        new OciImageBuilder(Cmd(TestImageFacts.Busybox.Cmd))
            .AddLayer(BaseLayer)
            .AddLayer(new LayerBuilder()
                .AddDirectory("data")
                .AddFile(TestImageFacts.Symlinks.Target, TestImageFacts.Symlinks.TargetContent)
                .AddSymlink(TestImageFacts.Symlinks.AbsoluteLink, TestImageFacts.Symlinks.AbsoluteLinkTarget)
                .AddSymlink(TestImageFacts.Symlinks.RelativeLink, TestImageFacts.Symlinks.RelativeLinkTarget)
                .AddSymlink(TestImageFacts.Symlinks.DirectoryLink, TestImageFacts.Symlinks.DirectoryLinkTarget)
                .AddSymlink(TestImageFacts.Symlinks.DanglingLink, TestImageFacts.Symlinks.DanglingLinkTarget))
            .AddLayer(new LayerBuilder()
                .AddFile("srv/through.txt", TestImageFacts.Symlinks.WrittenThroughLinkContent));

    private static OciImageBuilder SpecialFiles() =>
        new OciImageBuilder(Cmd(TestImageFacts.Busybox.Cmd))
            .AddLayer(BaseLayer)
            .AddLayer(new LayerBuilder()
                .AddDirectory("dev")
                .AddCharacterDevice(TestImageFacts.SpecialFiles.CharacterDevice, TestImageFacts.SpecialFiles.CharacterDeviceMajor, TestImageFacts.SpecialFiles.CharacterDeviceMinor)
                .AddDirectory("data")
                .AddFifo(TestImageFacts.SpecialFiles.Fifo)
                .AddFile(TestImageFacts.SpecialFiles.SetuidFile, "#!/bin/sh\nid -u\n", TestImageFacts.SpecialFiles.SetuidMode)
                .AddFile(TestImageFacts.SpecialFiles.OwnedFile, "owned by app:extra\n", TestImageFacts.SpecialFiles.OwnedMode, TestImageFacts.SpecialFiles.OwnedUid, TestImageFacts.SpecialFiles.OwnedGid)
                .AddDirectory(TestImageFacts.SpecialFiles.PrivateDirectory, TestImageFacts.SpecialFiles.PrivateMode, BusyboxRootfs.AppUid, BusyboxRootfs.AppGid)
                .AddDirectory(TestImageFacts.SpecialFiles.StickyDirectory, TestImageFacts.SpecialFiles.StickyMode));

    private static OciImageBuilder Large()
    {
        var image = new OciImageBuilder(Cmd(TestImageFacts.Busybox.Cmd)).AddLayer(BaseLayer);
        for (var layer = 1; layer <= TestImageFacts.Large.DataLayerCount; layer++)
        {
            // Seeded so every run builds the same digests; random so compression cannot shrink the pull.
            var data = new byte[TestImageFacts.Large.BytesPerLayer];
            new Random(layer).NextBytes(data);
            image.AddLayer(new LayerBuilder().AddDirectory("large").AddFile(TestImageFacts.Large.DataFile(layer), data));
        }

        return image;
    }
}
