using Crisp.ImageService.Metadata;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Crisp.ImageService.Tests.Metadata;

public sealed class MetadataStoreTests : IDisposable
{
    private const string ConfigJson = """{"architecture":"amd64","os":"linux","config":{"User":"1000","Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:1111111111111111111111111111111111111111111111111111111111111111","sha256:2222222222222222222222222222222222222222222222222222222222222222"]}}""";
    private readonly string _root = Directory.CreateTempSubdirectory("crisp-metadata-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_root, recursive: true);
    }

    private string DatabasePath => Path.Combine(_root, "metadata.db");

    private MetadataStore Open() => new(DatabasePath, NullLogger<MetadataStore>.Instance);

    private static NewImage Image(char id, string json = ConfigJson)
    {
        ImageConfigDocument config = ImageConfigDocument.Parse(json, "test");
        return new NewImage("sha256:" + new string(id, 64), config.Config, 1234, "sha256:" + new string('9', 64),
            Crisp.ImageService.Snapshots.ChainIds.Compute(config.DiffIds), config.DiffIds);
    }

    [Fact]
    public void RecordsSurviveReopening()
    {
        NewImage image = Image('a');
        using (MetadataStore store = Open())
        {
            store.Record(image, "docker.io/library/busybox:latest", "docker.io/library/busybox@sha256:" + new string('d', 64), "busybox");
        }

        using MetadataStore reopened = Open();
        StoredImage stored = Assert.Single(reopened.List());
        Assert.Equal(image.Id, stored.Id);
        Assert.Equal(["docker.io/library/busybox:latest"], stored.RepoTags);
        Assert.Equal(["docker.io/library/busybox@sha256:" + new string('d', 64)], stored.RepoDigests);
        Assert.Equal(image.ChainIds, stored.ChainIds);
        Assert.Equal(image.DiffIds, stored.DiffIds);
        Assert.Equal(1234, stored.Size);
        Assert.Equal("busybox", stored.UserSpecified);
        Assert.Equal("1000", stored.Config.User);
        Assert.Equal(ConfigJson, stored.Config.RawJson);
        Assert.Same(reopened.Get(image.Id), reopened.FindByTag("docker.io/library/busybox:latest"));
        Assert.Equal(image.Id, reopened.FindByRepoDigest("docker.io/library/busybox@sha256:" + new string('d', 64))!.Id);
    }

    [Fact]
    public void ATagMovesToTheNewerImageAndTheOldOneKeepsItsOtherNames()
    {
        using MetadataStore store = Open();
        store.Record(Image('a'), "r/app:latest", null, null);
        store.Record(Image('a'), "r/app:v1", null, null);

        store.Record(Image('b'), "r/app:latest", null, null);

        Assert.Equal(["r/app:v1"], store.Get("sha256:" + new string('a', 64))!.RepoTags);
        Assert.Equal(["r/app:latest"], store.Get("sha256:" + new string('b', 64))!.RepoTags);
    }

    [Fact]
    public void RemoveDropsTheImageWithAllItsNames()
    {
        using (MetadataStore store = Open())
        {
            store.Record(Image('a'), "r/app:latest", "r/app@sha256:" + new string('d', 64), null);
            store.Record(Image('a'), "r/app:v1", null, null);
            Assert.True(store.Remove("sha256:" + new string('a', 64)));
            Assert.False(store.Remove("sha256:" + new string('a', 64)));
            Assert.Empty(store.List());
            Assert.Null(store.FindByTag("r/app:v1"));
        }
        using MetadataStore reopened = Open();
        Assert.Empty(reopened.List());
        Assert.Null(reopened.FindByRepoDigest("r/app@sha256:" + new string('d', 64)));
    }

    [Fact]
    public void FindsByIdPrefix()
    {
        using MetadataStore store = Open();
        store.Record(Image('a'), null, null, null);
        store.Record(Image('b'), null, null, null);

        Assert.Single(store.FindByIdPrefix("aaaa"));
        Assert.Equal(2, store.FindByIdPrefix("").Count);
        Assert.Empty(store.FindByIdPrefix("c"));
    }

    [Fact]
    public void PinnedSurvivesReopening()
    {
        using (MetadataStore store = Open())
        {
            store.Record(Image('a'), null, null, null);
            store.SetPinned("sha256:" + new string('a', 64), true);
        }
        using MetadataStore reopened = Open();
        Assert.True(reopened.Get("sha256:" + new string('a', 64))!.Pinned);
    }

    [Fact]
    public void RecordingWhatIsAlreadyRecordedChangesNothing()
    {
        using MetadataStore store = Open();
        StoredImage first = store.Record(Image('a'), "r/app:latest", null, "app");

        StoredImage again = store.Record(Image('a'), "r/app:latest", null, "app");

        Assert.Same(first, again);
    }
}
