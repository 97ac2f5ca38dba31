using Crisp.Runtime.Api;
using Crisp.Runtime.Network;
using Xunit;

namespace Crisp.Runtime.Tests.Network;

public sealed class PodCidrStoreTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crisp-podcidr-").FullName;
    private string FilePath => Path.Combine(_dir, "sub", "pod-cidr");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Nothing_stored_is_null()
    {
        Assert.Null(new PodCidrStore(FilePath).Current);
    }

    [Fact]
    public async Task Update_is_visible_and_persists_across_instances()
    {
        var store = new PodCidrStore(FilePath);

        await store.UpdateAsync("10.244.1.0/24", CancellationToken.None);

        Assert.Equal("10.244.1.0/24", store.Current);
        Assert.Equal("10.244.1.0/24", new PodCidrStore(FilePath).Current);
    }

    [Fact]
    public async Task Dual_stack_value_is_normalized()
    {
        var store = new PodCidrStore(FilePath);

        await store.UpdateAsync(" 10.244.1.0/24 , fd00:10:244:1::/64 ,", CancellationToken.None);

        Assert.Equal("10.244.1.0/24,fd00:10:244:1::/64", store.Current);
        Assert.Equal("10.244.1.0/24,fd00:10:244:1::/64", new PodCidrStore(FilePath).Current);
    }

    [Fact]
    public async Task Later_update_replaces_the_earlier_one()
    {
        var store = new PodCidrStore(FilePath);
        await store.UpdateAsync("10.244.1.0/24", CancellationToken.None);

        await store.UpdateAsync("10.245.0.0/16", CancellationToken.None);

        Assert.Equal("10.245.0.0/16", store.Current);
        Assert.Equal("10.245.0.0/16", new PodCidrStore(FilePath).Current);
    }

    [Fact]
    public async Task Empty_update_clears_it()
    {
        var store = new PodCidrStore(FilePath);
        await store.UpdateAsync("10.244.1.0/24", CancellationToken.None);

        await store.UpdateAsync("", CancellationToken.None);

        Assert.Null(store.Current);
        Assert.Null(new PodCidrStore(FilePath).Current);
    }

    [Theory]
    [InlineData("banana")]
    [InlineData("10.244.1.0")]
    [InlineData("10.244.1.0/33")]
    [InlineData("10.244.1.0/24,nope")]
    [InlineData("300.1.1.1/8")]
    public async Task Invalid_cidr_is_invalid_argument_naming_the_field(string value)
    {
        var store = new PodCidrStore(FilePath);
        await store.UpdateAsync("10.244.1.0/24", CancellationToken.None);

        var e = await Assert.ThrowsAsync<RuntimeException>(() => store.UpdateAsync(value, CancellationToken.None));

        Assert.Equal(RuntimeErrorKind.InvalidArgument, e.Kind);
        Assert.Contains("runtime_config.network_config.pod_cidr", e.Message);
        Assert.Equal("10.244.1.0/24", store.Current);
        Assert.Equal("10.244.1.0/24", new PodCidrStore(FilePath).Current);
    }
}
