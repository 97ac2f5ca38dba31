using System.Text;
using System.Text.Json.Nodes;
using Crisp.Runtime.Network;
using Xunit;

namespace Crisp.Runtime.Tests.Network;

public sealed class CniNetworkConfigTests
{
    private static CniNetworkConfig Parse(string json, bool isList) => CniNetworkConfig.Parse(Encoding.UTF8.GetBytes(json), isList);

    private static string FormatError(string json, bool isList) => Assert.Throws<FormatException>(() => Parse(json, isList)).Message;

    [Fact]
    public void Conflist_keeps_name_version_and_plugins_in_order()
    {
        var config = Parse("""
            {"cniVersion":"1.0.0","name":"net1","plugins":[
              {"type":"bridge","bridge":"cni0","ipam":{"type":"host-local"}},
              {"type":"portmap","capabilities":{"portMappings":true}},
              {"type":"loopback"}]}
            """, isList: true);

        Assert.Equal("net1", config.Name);
        Assert.Equal("1.0.0", config.CniVersion);
        Assert.Equal(["bridge", "portmap", "loopback"], config.PluginTypes);
        Assert.Equal("cni0", config.Plugins[0]["bridge"]!.GetValue<string>());
        Assert.Equal("host-local", config.Plugins[0]["ipam"]!["type"]!.GetValue<string>());
        Assert.True(config.Plugins[1]["capabilities"]!["portMappings"]!.GetValue<bool>());
    }

    [Fact]
    public void Missing_cniVersion_defaults_to_the_oldest_version()
    {
        Assert.Equal("0.1.0", Parse("""{"name":"n","plugins":[{"type":"bridge"}]}""", isList: true).CniVersion);
        Assert.Equal("0.1.0", Parse("""{"name":"n","type":"bridge"}""", isList: false).CniVersion);
        Assert.Equal("0.1.0", Parse("""{"name":"n","cniVersion":"","type":"bridge"}""", isList: false).CniVersion);
    }

    [Fact]
    public void Conf_becomes_a_chain_of_one_plugin_holding_all_its_keys()
    {
        var config = Parse("""{"cniVersion":"0.4.0","name":"single","type":"bridge","bridge":"br9","isGateway":true}""", isList: false);

        Assert.Equal("single", config.Name);
        Assert.Equal("0.4.0", config.CniVersion);
        var plugin = Assert.Single(config.Plugins);
        Assert.Equal("bridge", plugin["type"]!.GetValue<string>());
        Assert.Equal("br9", plugin["bridge"]!.GetValue<string>());
        Assert.True(plugin["isGateway"]!.GetValue<bool>());
    }

    [Fact]
    public void Missing_name_is_refused()
    {
        Assert.Contains("name", FormatError("""{"cniVersion":"1.0.0","plugins":[{"type":"bridge"}]}""", isList: true));
        Assert.Contains("name", FormatError("""{"cniVersion":"1.0.0","type":"bridge"}""", isList: false));
        Assert.Contains("name", FormatError("""{"name":"","type":"bridge"}""", isList: false));
        Assert.Contains("name", FormatError("""{"name":42,"type":"bridge"}""", isList: false));
    }

    [Fact]
    public void Conf_without_type_is_refused()
    {
        Assert.Contains("type", FormatError("""{"cniVersion":"1.0.0","name":"n"}""", isList: false));
    }

    [Theory]
    [InlineData("""{"name":"n"}""")]
    [InlineData("""{"name":"n","plugins":[]}""")]
    [InlineData("""{"name":"n","plugins":{"type":"bridge"}}""")]
    public void Conflist_without_plugins_is_refused(string json)
    {
        Assert.Contains("plugins", FormatError(json, isList: true));
    }

    [Theory]
    [InlineData("""{"name":"n","plugins":[{"type":"bridge"},{"bridge":"x"}]}""")]
    [InlineData("""{"name":"n","plugins":[{"type":"bridge"},"loopback"]}""")]
    [InlineData("""{"name":"n","plugins":[{"type":""}]}""")]
    public void Every_plugin_of_a_conflist_needs_a_type(string json)
    {
        Assert.Contains("type", FormatError(json, isList: true));
    }

    [Theory]
    [InlineData("/bin/sh")]
    [InlineData("../../bin/sh")]
    [InlineData("sub/bridge")]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("..bridge")]
    public void Type_that_is_not_a_plain_binary_name_is_refused(string type)
    {
        var conflist = new JsonObject { ["name"] = "n", ["plugins"] = new JsonArray(new JsonObject { ["type"] = type }) }.ToJsonString();
        var conf = new JsonObject { ["name"] = "n", ["type"] = type }.ToJsonString();

        Assert.Contains(type, FormatError(conflist, isList: true));
        Assert.Contains(type, FormatError(conf, isList: false));
    }

    [Fact]
    public void Type_with_a_nul_character_is_refused_and_named_visibly()
    {
        var conf = new JsonObject { ["name"] = "n", ["type"] = "bridge\0/../sh" }.ToJsonString();
        var nulOnly = new JsonObject { ["name"] = "n", ["type"] = "bridge\0x" }.ToJsonString();

        Assert.Contains("not a plain binary name", FormatError(conf, isList: false));
        var error = FormatError(nulOnly, isList: false);
        Assert.Contains("bridge\\0x", error);
        Assert.Contains("NUL", error);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("[1,2]")]
    [InlineData("\"text\"")]
    public void Non_object_or_broken_json_is_a_format_error(string json)
    {
        Assert.Throws<FormatException>(() => Parse(json, isList: true));
        Assert.Throws<FormatException>(() => Parse(json, isList: false));
    }

    [Fact]
    public void Conflist_and_conf_shapes_are_not_interchangeable()
    {
        // A conflist read as .conf has no top-level type; a .conf read as conflist has no plugins.
        Assert.Throws<FormatException>(() => Parse("""{"name":"n","plugins":[{"type":"bridge"}]}""", isList: false));
        Assert.Throws<FormatException>(() => Parse("""{"name":"n","type":"bridge"}""", isList: true));
    }

    [Fact]
    public void Parsed_plugins_are_copies_not_views_of_the_input()
    {
        var root = JsonNode.Parse("""{"name":"n","cniVersion":"1.0.0","plugins":[{"type":"bridge","x":1}]}""")!.AsObject();
        var config = CniNetworkConfig.FromConflist(root);

        root["plugins"]![0]!["x"] = 2;

        Assert.Equal(1, config.Plugins[0]["x"]!.GetValue<int>());
    }

    [Fact]
    public void ToConflist_FromConflist_round_trips_a_chain()
    {
        var original = Parse("""
            {"cniVersion":"1.0.0","name":"rt","plugins":[
              {"type":"bridge","bridge":"cni0","ipam":{"type":"host-local","ranges":[[{"subnet":"10.1.0.0/16"}]]}},
              {"type":"portmap","capabilities":{"portMappings":true},"snat":false}]}
            """, isList: true);

        var conflist = original.ToConflist();
        var restored = CniNetworkConfig.FromConflist(conflist);

        Assert.Equal("rt", conflist["name"]!.GetValue<string>());
        Assert.Equal("1.0.0", conflist["cniVersion"]!.GetValue<string>());
        Assert.Equal(original.Name, restored.Name);
        Assert.Equal(original.CniVersion, restored.CniVersion);
        Assert.Equal(original.Plugins.Count, restored.Plugins.Count);
        for (var i = 0; i < original.Plugins.Count; i++)
            Assert.True(JsonNode.DeepEquals(original.Plugins[i], restored.Plugins[i]), $"plugin {i} differs");
        Assert.Equal("", restored.SourceFile);
    }

    [Fact]
    public void ToConflist_of_a_conf_round_trips_as_a_chain_of_one()
    {
        var original = Parse("""{"cniVersion":"0.3.1","name":"c","type":"ptp","mtu":1400}""", isList: false);

        var restored = CniNetworkConfig.FromConflist(original.ToConflist());

        Assert.Equal("c", restored.Name);
        Assert.Equal("0.3.1", restored.CniVersion);
        Assert.Equal(["ptp"], restored.PluginTypes);
        Assert.Equal(1400, restored.Plugins[0]["mtu"]!.GetValue<int>());
    }

    [Fact]
    public void ToConflist_does_not_share_nodes_with_the_config()
    {
        var config = Parse("""{"name":"n","cniVersion":"1.0.0","plugins":[{"type":"bridge","x":1}]}""", isList: true);

        var conflist = config.ToConflist();
        conflist["plugins"]![0]!["x"] = 99;

        Assert.Equal(1, config.Plugins[0]["x"]!.GetValue<int>());
    }

    [Fact]
    public void Load_chooses_the_shape_by_extension_and_records_the_file()
    {
        var dir = Directory.CreateTempSubdirectory("crisp-cni-load-").FullName;
        try
        {
            var list = Path.Combine(dir, "a.conflist");
            var conf = Path.Combine(dir, "b.conf");
            var json = Path.Combine(dir, "c.json");
            File.WriteAllText(list, """{"name":"l","plugins":[{"type":"bridge"},{"type":"loopback"}]}""");
            File.WriteAllText(conf, """{"name":"s","type":"ptp"}""");
            File.WriteAllText(json, """{"name":"j","type":"macvlan"}""");

            var fromList = CniNetworkConfig.Load(list);
            Assert.Equal(["bridge", "loopback"], fromList.PluginTypes);
            Assert.Equal(list, fromList.SourceFile);
            Assert.Equal(["ptp"], CniNetworkConfig.Load(conf).PluginTypes);
            Assert.Equal(["macvlan"], CniNetworkConfig.Load(json).PluginTypes);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
