using Xunit;
using Crisp.Cri.V1;
using Crisp.Runtime.Api;
using Crisp.Runtime.State;
using Microsoft.Extensions.Logging.Abstractions;

namespace Crisp.Runtime.Tests.State;

public sealed class StateStoreTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crisp-state-").FullName;
    private string DbPath => Path.Combine(_dir, "runtime.db");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private StateStore Open() => new(DbPath, NullLogger<StateStore>.Instance);

    private static SandboxRecord Sandbox(string id, string name = "web") => new()
    {
        Id = id,
        Config = new PodSandboxConfig
        {
            Metadata = new PodSandboxMetadata { Name = name, Namespace = "default", Uid = "uid-" + name, Attempt = 1 },
            Labels = { ["app"] = name },
            Hostname = name,
        },
        RuntimeHandler = "runc",
        CreatedAtNanos = 42,
        Phase = SandboxPhase.Ready,
        Directory = "/var/lib/crisp/sandboxes/" + id,
        StateDirectory = "/run/crisp/sandboxes/" + id,
        NetworkNamespacePath = "/run/crisp/ns/" + id + "/net",
    };

    private static ContainerRecord Container(string id, string sandboxId) => new()
    {
        Id = id,
        SandboxId = sandboxId,
        Config = new ContainerConfig
        {
            Metadata = new ContainerMetadata { Name = "app", Attempt = 2 },
            Image = new ImageSpec { Image = "busybox:latest" },
            Command = { "sh", "-c", "sleep 1" },
            Envs = { new KeyValue { Key = "A", Value = Google.Protobuf.ByteString.CopyFromUtf8("b") } },
        },
        RuntimeHandler = "runc",
        CreatedAtNanos = 7,
        Phase = ContainerPhase.Creating,
        ImageId = "sha256:abc",
        ImageName = "busybox:latest",
        ImageRef = "sha256:abc",
        LayerDirs = ["/l1", "/l2"],
        Directory = "/var/lib/crisp/containers/" + id,
        BundleDirectory = "/run/crisp/containers/" + id,
        Resources = new LinuxContainerResources { MemoryLimitInBytes = 1 << 24, CpuQuota = 50000 },
        User = new ResolvedUser(1000, 1000, [10, 20], "app"),
        StopSignal = 2,
    };

    [Fact]
    public async Task Records_survive_reopening_the_database_with_every_field()
    {
        using (var store = Open())
        {
            await store.SaveAsync(Sandbox("s1"), CancellationToken.None);
            var c = Container("c1", "s1");
            await store.SaveAsync(c, CancellationToken.None);
            c.Phase = ContainerPhase.Exited;
            c.ExitCode = 137;
            c.Reason = "OOMKilled";
            await store.SaveAsync(c, CancellationToken.None);
        }

        using var reopened = Open();
        var sandbox = Assert.Single(reopened.Sandboxes);
        Assert.Equal("s1", sandbox.Id);
        Assert.Equal("web", sandbox.Config.Metadata.Name);
        Assert.Equal("web", sandbox.Config.Labels["app"]);
        Assert.Equal(SandboxPhase.Ready, sandbox.Phase);
        Assert.Equal("/run/crisp/ns/s1/net", sandbox.NetworkNamespacePath);

        var container = Assert.Single(reopened.Containers);
        Assert.Equal(ContainerPhase.Exited, container.Phase);
        Assert.Equal(137, container.ExitCode);
        Assert.Equal("OOMKilled", container.Reason);
        Assert.Equal(["sh", "-c", "sleep 1"], container.Config.Command);
        Assert.Equal("b", container.Config.Envs[0].Value.ToStringUtf8());
        Assert.Equal(1 << 24, container.Resources.MemoryLimitInBytes);
        Assert.Equal(new long[] { 10, 20 }, container.User!.AdditionalGids);
        Assert.Equal("app", container.User.Username);
        Assert.Equal(["/l1", "/l2"], container.LayerDirs);
        Assert.Equal(2, container.StopSignal);
        Assert.Single(reopened.ContainersOf("s1"));
    }

    [Fact]
    public async Task Deleted_records_are_gone_after_reopening()
    {
        using (var store = Open())
        {
            await store.SaveAsync(Sandbox("s1"), CancellationToken.None);
            await store.SaveAsync(Sandbox("s2", "db"), CancellationToken.None);
            await store.SaveAsync(Container("c1", "s1"), CancellationToken.None);
            await store.DeleteContainerAsync("c1", CancellationToken.None);
            await store.DeleteSandboxAsync("s1", CancellationToken.None);
            Assert.Null(store.FindSandbox("s1"));
            Assert.Null(store.FindContainer("c1"));
        }
        using var reopened = Open();
        Assert.Equal("s2", Assert.Single(reopened.Sandboxes).Id);
        Assert.Empty(reopened.Containers);
    }

    [Fact]
    public async Task A_pods_containers_are_saved_and_deleted_in_one_write_and_found_by_pod_after_reopening()
    {
        using (var store = Open())
        {
            await store.SaveAllAsync([Container("c1", "s1"), Container("c2", "s1"), Container("c3", "s2")], CancellationToken.None);
            Assert.Equal(["c1", "c2"], store.ContainersOf("s1").Select(c => c.Id).Order());
            await store.DeleteContainersAsync(["c1", "c3"], CancellationToken.None);
            Assert.Equal("c2", Assert.Single(store.ContainersOf("s1")).Id);
            Assert.Empty(store.ContainersOf("s2"));
        }
        using var reopened = Open();
        Assert.Equal("c2", Assert.Single(reopened.ContainersOf("s1")).Id);
        Assert.Empty(reopened.ContainersOf("s2"));
        Assert.Empty(reopened.ContainersOf("unknown"));
    }

    [Fact]
    public async Task Database_is_in_wal_mode()
    {
        using (var store = Open()) await store.SaveAsync(Sandbox("s1"), CancellationToken.None);
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={DbPath}");
        await connection.OpenAsync();
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", (string?)await cmd.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Image_volume_layers_count_as_in_use_and_survive_a_reopen()
    {
        using (var store = Open())
        {
            await store.SaveAsync(Sandbox("s1"), CancellationToken.None);
            var container = Container("c1", "s1");
            container.ImageVolumes = [new ImageVolumeUse("sha256:def", ["/v1", "/v2"])];
            await store.SaveAsync(container, CancellationToken.None);
        }
        using var reopened = Open();
        var use = Assert.Single(reopened.FindContainer("c1")!.ImageVolumes);
        Assert.Equal("sha256:def", use.ImageId);
        Assert.Equal(["/l1", "/l2", "/v1", "/v2"], reopened.LayerDirsInUse().Order(StringComparer.Ordinal));
    }
}
