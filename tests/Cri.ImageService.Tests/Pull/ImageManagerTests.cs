using System.Diagnostics;
using Crisp.ImageService.Api;
using Crisp.ImageService.Registry;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Crisp.ImageService.Tests.Pull;

public sealed class ImageManagerTests : IAsyncLifetime
{
    private readonly string _workspace = Directory.CreateTempSubdirectory("crisp-images-").FullName;
    private FakeRegistry _registry = null!;
    private readonly List<ImageManager> _managers = [];
    private readonly List<RegistryClient> _clients = [];

    private string Root => Path.Combine(_workspace, "root");

    public async Task InitializeAsync() => _registry = await FakeRegistry.StartAsync();

    public async Task DisposeAsync()
    {
        foreach (ImageManager manager in _managers) manager.Dispose();
        foreach (RegistryClient client in _clients) client.Dispose();
        await _registry.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_workspace, recursive: true);
    }

    private ImageManager NewManager(Action<ImageServiceOptions>? configure = null)
    {
        var options = new ImageServiceOptions { Root = Root };
        configure?.Invoke(options);
        var client = new RegistryClient(RegistryConfiguration.Empty, NullLogger<RegistryClient>.Instance,
            new RegistryClientOptions { MaxAttempts = 1 }, TimeProvider.System);
        _clients.Add(client);
        var manager = new ImageManager(options, client, NullLoggerFactory.Instance);
        _managers.Add(manager);
        return manager;
    }

    private static CompressedLayer Base() => LayerBuilder.OwnedByCurrentUser().AddDirectory("bin/").AddFile("bin/sh", "#!elf", mode: (UnixFileMode)0b111_101_101).Build();

    private static CompressedLayer App(string content = "hello") => LayerBuilder.OwnedByCurrentUser().AddDirectory("app/").AddFile("app/data", content).Build();

    private string Ref(string repoTag) => $"{_registry.Host}/{repoTag}";

    private string[] SnapshotDirectories() =>
        Directory.EnumerateDirectories(Path.Combine(Root, "snapshots")).Where(d => !d.EndsWith("/.ingest", StringComparison.Ordinal)).ToArray();

    private void AssertNoLeftovers()
    {
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(Root, "content", "ingest")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(Root, "snapshots", ".ingest")));
    }

    [Fact]
    public async Task PullsUnpacksAndRecordsAnImage()
    {
        CompressedLayer bottom = Base(), top = App();
        string id = _registry.Push("team/app", "v1", bottom, top);
        ImageManager manager = NewManager();

        ImageRecord image = await manager.PullAsync(Ref("team/app:v1"), null, CancellationToken.None);

        Assert.Equal(id, image.Id);
        Assert.Equal([Ref("team/app:v1")], image.RepoTags);
        Assert.StartsWith(Ref("team/app") + "@sha256:", Assert.Single(image.RepoDigests));
        Assert.Equal("1000", image.Config.User);
        Assert.Equal(["sh"], image.Config.Cmd);
        Assert.Equal(2, image.LayerDirs.Count);
        Assert.Equal("#!elf", File.ReadAllText(Path.Combine(image.LayerDirs[0], "bin/sh")));
        Assert.Equal("hello", File.ReadAllText(Path.Combine(image.LayerDirs[1], "app/data")));
        Assert.Equal(Ref("team/app:v1"), image.UserSpecifiedImage);
        Assert.True(image.Size > (ulong)(bottom.Blob.Length + top.Blob.Length));
        AssertNoLeftovers();
    }

    [Fact]
    public async Task FindsByTagIdHexPrefixAndDigest()
    {
        string id = _registry.Push("team/app", "v1", Base());
        ImageManager manager = NewManager();
        ImageRecord pulled = await manager.PullAsync(Ref("team/app:v1"), null, CancellationToken.None);
        string hex = id["sha256:".Length..];

        foreach (string query in new[] { Ref("team/app:v1"), id, hex, hex[..12], "sha256:" + hex[..12], pulled.RepoDigests[0] })
        {
            Assert.Equal(id, (await manager.FindAsync(query, CancellationToken.None))?.Id);
        }
        Assert.Null(await manager.FindAsync(Ref("team/app:v2"), CancellationToken.None));
        Assert.Null(await manager.FindAsync("busybox", CancellationToken.None));
        Assert.Single(await manager.ListAsync(CancellationToken.None));
    }

    [Fact]
    public async Task AWarmPullDownloadsNothing()
    {
        CompressedLayer layer = Base();
        _registry.Push("team/app", "v1", layer);
        ImageManager manager = NewManager();
        await manager.PullAsync(Ref("team/app:v1"), null, CancellationToken.None);

        ImageRecord again = await manager.PullAsync(Ref("team/app:v1"), null, CancellationToken.None);

        Assert.Equal(1, _registry.RequestsFor(layer.Descriptor.Digest));
        Assert.Equal(1, _registry.RequestsFor(again.Id));
    }

    [Fact]
    public async Task ConcurrentPullsShareOneDownloadPerBlob()
    {
        CompressedLayer shared = Base();
        _registry.Push("team/a", "v1", shared, App("a"));
        _registry.Push("team/b", "v1", shared, App("b"));
        ImageManager manager = NewManager();
        _registry.BlobGate = new TaskCompletionSource();

        Task<ImageRecord>[] pulls =
        [
            manager.PullAsync(Ref("team/a:v1"), null, CancellationToken.None),
            manager.PullAsync(Ref("team/a:v1"), null, CancellationToken.None),
            manager.PullAsync(Ref("team/b:v1"), null, CancellationToken.None),
        ];
        await Task.Delay(300);
        _registry.BlobGate.SetResult();
        ImageRecord[] images = await Task.WhenAll(pulls);

        Assert.Equal(1, _registry.RequestsFor(shared.Descriptor.Digest));
        Assert.Equal(images[0].LayerDirs[0], images[2].LayerDirs[0]);
        Assert.Equal(3, SnapshotDirectories().Length);
    }

    [Fact]
    public async Task ALayerWithWrongBytesFailsThePullAndLeavesNothing()
    {
        CompressedLayer layer = Base();
        _registry.Push("team/app", "v1", layer);
        _registry.CorruptBlobs[layer.Descriptor.Digest] = App("not the layer").Blob[..(int)layer.Descriptor.Size].ToArray();
        ImageManager manager = NewManager();

        var error = await Assert.ThrowsAsync<ImageServiceException>(() => manager.PullAsync(Ref("team/app:v1"), null, CancellationToken.None));

        Assert.Equal(ImageErrorKind.DataLoss, error.Kind);
        Assert.Contains(layer.Descriptor.Digest, error.Message);
        Assert.Empty(await manager.ListAsync(CancellationToken.None));
        Assert.Empty(SnapshotDirectories());
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(Root, "content", "sha256"))); // not even the manifest and config
        AssertNoLeftovers();
    }

    [Fact]
    public async Task ALayerThatUnpacksWholeButFailsItsDigestLeavesNoSnapshot()
    {
        // Uncompressed, with one flipped byte inside the file: the tar reads fine to its end and every
        // file is written before the digest, checked at the last byte, proves the blob a lie.
        CompressedLayer layer = LayerBuilder.OwnedByCurrentUser().AddFile("data", new string('x', 300_000)).Build(LayerCompression.None);
        _registry.Push("team/liar", "v1", layer);
        byte[] lie = layer.Blob.ToArray();
        lie[1024 + 150_000] = (byte)'y';
        _registry.CorruptBlobs[layer.Descriptor.Digest] = lie;
        ImageManager manager = NewManager();

        var error = await Assert.ThrowsAsync<ImageServiceException>(() => manager.PullAsync(Ref("team/liar:v1"), null, CancellationToken.None));

        Assert.Equal(ImageErrorKind.DataLoss, error.Kind);
        Assert.Contains($"layer {layer.Descriptor.Digest}", error.Message);
        Assert.Contains("digest mismatch", error.Message);
        Assert.Empty(SnapshotDirectories());
        Assert.Empty(await manager.ListAsync(CancellationToken.None));
        AssertNoLeftovers();
    }

    [Fact]
    public async Task LayersDownloadInParallelUpToTheConfiguredLimit()
    {
        CompressedLayer[] layers = [Base(), App("one"), App("two")];
        _registry.Push("team/three", "v1", layers);
        ImageManager manager = NewManager(o => o.MaxConcurrentDownloads = 2);
        var gate = new TaskCompletionSource();
        foreach (CompressedLayer layer in layers) _registry.HeldBlobs[layer.Descriptor.Digest] = gate.Task;

        Task<ImageRecord> pull = manager.PullAsync(Ref("team/three:v1"), null, CancellationToken.None);
        await WaitUntilAsync(() => layers.Count(l => _registry.RequestsFor(l.Descriptor.Digest) > 0) == 2, "two layer downloads");
        await Task.Delay(300); // a third download, if the limit did not hold, would start meanwhile

        Assert.Equal(2, layers.Count(l => _registry.RequestsFor(l.Descriptor.Digest) > 0));
        gate.SetResult();
        ImageRecord image = await pull;
        Assert.Equal(3, image.LayerDirs.Count);
        Assert.All(layers, l => Assert.Equal(1, _registry.RequestsFor(l.Descriptor.Digest)));
    }

    [Fact]
    public async Task ALayerCommitsWhileALaterOneStillDownloadsAndCancellingThenLeavesNoPartialLayer()
    {
        CompressedLayer bottom = Base();
        CompressedLayer slow = LayerBuilder.OwnedByCurrentUser().AddFile("big", new string('x', 400_000)).Build(LayerCompression.None);
        _registry.Push("team/slow", "v1", bottom, slow);
        _registry.StalledBlobs[slow.Descriptor.Digest] = true; // half the blob, then silence
        ImageManager manager = NewManager();
        using var caller = new CancellationTokenSource();

        Task<ImageRecord> pull = manager.PullAsync(Ref("team/slow:v1"), null, caller.Token);
        string ingest = Path.Combine(Root, "snapshots", ".ingest");
        await WaitUntilAsync(() => SnapshotDirectories().Length == 1, "the first layer's snapshot");
        // The file exists once its entry is reached; its data may still sit in the unpacker's write buffer.
        await WaitUntilAsync(() => PartialFileExists(ingest), "the second layer's unpack to begin");
        Assert.False(pull.IsCompleted);
        await caller.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pull);
        await WaitUntilAsync(() => !Directory.EnumerateFileSystemEntries(ingest).Any(), "the partial layer to be discarded");
        AssertNoLeftovers();
        Assert.Single(SnapshotDirectories()); // the committed layer stays until image GC finds it unused
        Assert.Empty(await manager.ListAsync(CancellationToken.None));
    }

    private static bool PartialFileExists(string ingest) =>
        Directory.EnumerateFiles(ingest, "big", SearchOption.AllDirectories).Any();

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(20)) throw new TimeoutException($"waited 20 s for {what}");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task AHostileLayerFailsThePullAndWritesNothingOutsideTheRoot()
    {
        string outside = Path.Combine(_workspace, "outside");
        Directory.CreateDirectory(outside);
        CompressedLayer hostile = LayerBuilder.OwnedByCurrentUser().AddSymlink("evil", outside).AddFile("evil/pwned", "x").Build();
        _registry.Push("team/evil", "v1", hostile);
        ImageManager manager = NewManager();

        var error = await Assert.ThrowsAsync<ImageServiceException>(() => manager.PullAsync(Ref("team/evil:v1"), null, CancellationToken.None));

        Assert.Equal(ImageErrorKind.DataLoss, error.Kind);
        Assert.Contains("evil/pwned", error.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
        Assert.Empty(SnapshotDirectories());
        AssertNoLeftovers();
    }

    [Fact]
    public async Task ADownloadWithoutProgressIsCancelledWithDeadlineExceeded()
    {
        CompressedLayer layer = LayerBuilder.OwnedByCurrentUser().AddFile("big", new string('x', 200_000)).Build(LayerCompression.None);
        _registry.Push("team/slow", "v1", layer);
        _registry.StalledBlobs[layer.Descriptor.Digest] = true;
        ImageManager manager = NewManager(o => o.PullProgressTimeout = TimeSpan.FromMilliseconds(500));

        var timer = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<ImageServiceException>(() => manager.PullAsync(Ref("team/slow:v1"), null, CancellationToken.None));

        Assert.Equal(ImageErrorKind.DeadlineExceeded, error.Kind);
        Assert.True(timer.Elapsed < TimeSpan.FromSeconds(20), $"took {timer.Elapsed}");
        Assert.Empty(await manager.ListAsync(CancellationToken.None));
        AssertNoLeftovers();
    }

    [Fact]
    public async Task CancellingTheCallerCancelsTheDownload()
    {
        CompressedLayer layer = LayerBuilder.OwnedByCurrentUser().AddFile("big", new string('x', 200_000)).Build(LayerCompression.None);
        _registry.Push("team/slow", "v1", layer);
        _registry.StalledBlobs[layer.Descriptor.Digest] = true;
        ImageManager manager = NewManager();
        using var caller = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => manager.PullAsync(Ref("team/slow:v1"), null, caller.Token));

        await Task.Delay(200); // the abandoned layer operation cleans up after its last waiter left
        AssertNoLeftovers();
    }

    [Fact]
    public async Task RemoveDeletesTheImageWithAllItsTagsAndCollectsWhatNothingElseUses()
    {
        CompressedLayer shared = Base(), onlyA = App("a");
        string idA = _registry.Push("team/a", "v1", shared, onlyA);
        _registry.Push("team/a", "v2", shared, onlyA);
        string idB = _registry.Push("team/b", "v1", shared, App("b"));
        ImageManager manager = NewManager();
        ImageRecord a = await manager.PullAsync(Ref("team/a:v1"), null, CancellationToken.None);
        await manager.PullAsync(Ref("team/a:v2"), null, CancellationToken.None);
        ImageRecord b = await manager.PullAsync(Ref("team/b:v1"), null, CancellationToken.None);
        Assert.Equal(2, (await manager.FindAsync(idA, CancellationToken.None))!.RepoTags.Count);

        await manager.RemoveAsync(Ref("team/a:v1"), CancellationToken.None);

        Assert.Null(await manager.FindAsync(Ref("team/a:v2"), CancellationToken.None));
        Assert.Null(await manager.FindAsync(idA, CancellationToken.None));
        Assert.False(Directory.Exists(a.LayerDirs[1]));
        Assert.True(Directory.Exists(a.LayerDirs[0])); // still b's base layer
        Assert.False(File.Exists(Path.Combine(Root, "content", "sha256", idA["sha256:".Length..])));
        Assert.Equal(idB, (await manager.FindAsync(Ref("team/b:v1"), CancellationToken.None))!.Id);
        Assert.True(Directory.Exists(b.LayerDirs[1]));

        await manager.RemoveAsync(Ref("team/a:v1"), CancellationToken.None); // absent is success
        await manager.RemoveAsync(idA, CancellationToken.None);
    }

    [Fact]
    public async Task SnapshotsARunningContainerUsesSurviveRemoval()
    {
        _registry.Push("team/app", "v1", Base());
        ImageManager manager = NewManager();
        ImageRecord image = await manager.PullAsync(Ref("team/app:v1"), null, CancellationToken.None);
        manager.RegisterSnapshotUsage(() => new HashSet<string>(image.LayerDirs));

        await manager.RemoveAsync(image.Id, CancellationToken.None);

        Assert.Null(await manager.FindAsync(image.Id, CancellationToken.None));
        Assert.True(Directory.Exists(image.LayerDirs[0]));
    }

    [Fact]
    public async Task WhenTheRuntimeCannotTellWhatIsInUseNoSnapshotIsDeleted()
    {
        _registry.Push("team/app", "v1", Base());
        ImageManager manager = NewManager();
        ImageRecord image = await manager.PullAsync(Ref("team/app:v1"), null, CancellationToken.None);
        manager.RegisterSnapshotUsage(() => throw new InvalidOperationException("runtime state unavailable"));

        await manager.RemoveAsync(image.Id, CancellationToken.None);

        Assert.Null(await manager.FindAsync(image.Id, CancellationToken.None));
        Assert.True(Directory.Exists(image.LayerDirs[0]));
    }

    [Fact]
    public async Task APinnedImageIsNotRemoved()
    {
        _registry.Push("team/pause", "3.9", Base());
        ImageManager manager = NewManager(o => o.PinnedImages = [Ref("team/pause:3.9")]);
        ImageRecord image = await manager.PullAsync(Ref("team/pause:3.9"), null, CancellationToken.None);
        Assert.True(image.Pinned);

        var error = await Assert.ThrowsAsync<ImageServiceException>(() => manager.RemoveAsync(image.Id, CancellationToken.None));

        Assert.Equal(ImageErrorKind.FailedPrecondition, error.Kind);
        Assert.NotNull(await manager.FindAsync(image.Id, CancellationToken.None));
    }

    [Fact]
    public async Task AnImageSurvivesARestartAndIsNotDownloadedAgain()
    {
        CompressedLayer layer = Base();
        string id = _registry.Push("team/app", "v1", layer);
        ImageManager first = NewManager();
        await first.PullAsync(Ref("team/app:v1"), null, CancellationToken.None);
        first.Dispose();
        _managers.Remove(first);

        ImageManager second = NewManager();
        Assert.Equal(id, (await second.FindAsync(Ref("team/app:v1"), CancellationToken.None))?.Id);
        await second.PullAsync(Ref("team/app:v1"), null, CancellationToken.None);

        Assert.Equal(1, _registry.RequestsFor(layer.Descriptor.Digest));
    }

    [Fact]
    public async Task ReportsSnapshotUsage()
    {
        _registry.Push("team/app", "v1", Base());
        ImageManager manager = NewManager();
        FilesystemUsage before = await manager.GetImageFsUsageAsync(CancellationToken.None);

        await manager.PullAsync(Ref("team/app:v1"), null, CancellationToken.None);
        FilesystemUsage after = await manager.GetImageFsUsageAsync(CancellationToken.None);

        Assert.True(after.InodesUsed > before.InodesUsed);
        Assert.True(after.UsedBytes > before.UsedBytes);
        Assert.False(string.IsNullOrEmpty(after.Mountpoint));
    }

    [Fact]
    public async Task KeepsTheUserSpecifiedImageOrElseTheReference()
    {
        _registry.Push("team/app", "v1", Base());
        ImageManager manager = NewManager();

        ImageRecord plain = await manager.PullAsync(Ref("team/app:v1"), null, CancellationToken.None);
        ImageRecord named = await manager.PullAsync(Ref("team/app:v1"), null, CancellationToken.None, userSpecifiedImage: "app:v1");

        Assert.Equal(Ref("team/app:v1"), plain.UserSpecifiedImage);
        Assert.Equal("app:v1", named.UserSpecifiedImage);
        Assert.Equal("app:v1", (await manager.FindAsync(named.Id, CancellationToken.None))!.UserSpecifiedImage);
        Assert.Equal("app:v1", Assert.Single(await manager.ListAsync(CancellationToken.None)).UserSpecifiedImage);
    }

    [Fact]
    public async Task ContainerUsageWalksUpperDirsNextToTheImageRootUntilTheRuntimeRegistersAProvider()
    {
        ImageManager manager = NewManager();
        string upper = Path.Combine(_workspace, "containers", "c1", "upper");
        Directory.CreateDirectory(upper);
        await File.WriteAllBytesAsync(Path.Combine(upper, "written"), new byte[8192]);

        FilesystemUsage walked = await manager.GetContainerFsUsageAsync(CancellationToken.None);
        manager.RegisterContainerFilesystemUsage(_ => Task.FromResult(new FilesystemUsage("/from-runtime", 42, 7)));
        FilesystemUsage provided = await manager.GetContainerFsUsageAsync(CancellationToken.None);

        Assert.Equal(Path.Combine(_workspace, "containers"), ImageManager.ContainersDirectoryOf(Root));
        Assert.Equal(1ul, walked.InodesUsed);
        Assert.True(walked.UsedBytes >= 8192, $"used bytes {walked.UsedBytes}");
        Assert.Equal(new FilesystemUsage("/from-runtime", 42, 7), provided);
    }

    [Fact]
    public async Task AnInvalidReferenceIsInvalidArgument()
    {
        ImageManager manager = NewManager();
        var error = await Assert.ThrowsAsync<ImageServiceException>(() => manager.PullAsync("UPPER/Case:!!", null, CancellationToken.None));
        Assert.Equal(ImageErrorKind.InvalidArgument, error.Kind);
    }
}
