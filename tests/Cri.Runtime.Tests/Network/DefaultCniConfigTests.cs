using Crisp.Runtime.Network;
using Xunit;

namespace Crisp.Runtime.Tests.Network;

public sealed class DefaultCniConfigTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crisp-cni-default-").FullName;
    private string ConfDir => Path.Combine(_dir, "net.d");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Content_is_a_valid_bridge_portmap_loopback_chain_on_the_pod_subnet()
    {
        var config = CniNetworkConfig.Parse(System.Text.Encoding.UTF8.GetBytes(DefaultCniConfig.Content), isList: true);

        Assert.Equal(["bridge", "portmap", "loopback"], config.PluginTypes);
        Assert.Equal(DefaultCniConfig.BridgeName, config.Plugins[0]["bridge"]!.GetValue<string>());
        Assert.Equal(DefaultCniConfig.PodSubnet, config.Plugins[0]["ipam"]!["ranges"]![0]![0]!["subnet"]!.GetValue<string>());
        Assert.True(config.Plugins[1]["capabilities"]!["portMappings"]!.GetValue<bool>());
    }

    [Fact]
    public void Writes_into_a_missing_directory_once()
    {
        var written = DefaultCniConfig.WriteIfMissing(ConfDir);

        Assert.Equal(Path.Combine(ConfDir, DefaultCniConfig.FileName), written);
        var state = CniConfigProbe.Probe(ConfDir);
        Assert.True(state.Ready);
        Assert.Equal(written, state.ConfigFile);
        Assert.Null(DefaultCniConfig.WriteIfMissing(ConfDir));
        Assert.Equal([written!], Directory.GetFiles(ConfDir));
    }

    [Fact]
    public void Never_overrides_a_valid_operator_config()
    {
        Directory.CreateDirectory(ConfDir);
        var mine = Path.Combine(ConfDir, "99-mine.conflist");
        File.WriteAllText(mine, """{"cniVersion":"1.0.0","name":"mine","plugins":[{"type":"ptp"}]}""");

        Assert.Null(DefaultCniConfig.WriteIfMissing(ConfDir));
        Assert.Equal([mine], Directory.GetFiles(ConfDir));
    }

    [Fact]
    public void Writes_when_the_directory_holds_only_invalid_configs()
    {
        Directory.CreateDirectory(ConfDir);
        File.WriteAllText(Path.Combine(ConfDir, "00-broken.conflist"), "{");

        var written = DefaultCniConfig.WriteIfMissing(ConfDir);

        Assert.NotNull(written);
        Assert.Equal("crisp", CniConfigProbe.Probe(ConfDir).NetworkName);
    }
}
