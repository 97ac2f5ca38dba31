using System.Text.RegularExpressions;
using Crisp.Server.Config;
using Xunit;
using YamlDotNet.RepresentationModel;

namespace Crisp.Chart.Tests;

/// <summary>What the chart's values must agree with, checked without helm: crisp's config loader, the Makefile, the version.</summary>
public sealed class ChartValuesTests
{
    private static YamlMappingNode Load(string path)
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(path);
        stream.Load(reader);
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    private static string Scalar(YamlMappingNode map, params string[] keys)
    {
        YamlNode node = map;
        foreach (var key in keys) node = ((YamlMappingNode)node)[key];
        return ((YamlScalarNode)node).Value ?? "";
    }

    [Fact]
    public void The_custom_config_is_one_crispd_accepts()
    {
        var toml = Scalar(Load(ChartPaths.CustomValues), "config");
        var config = new CrispConfig();

        ConfigLoader.ApplyToml(config, toml, "values-custom.yaml config");

        Assert.Equal("debug", config.LogLevel);
        Assert.True(config.NetworkWriteDefaultCniConfig);
    }

    [Fact]
    public void A_config_crispd_refuses_is_caught_the_same_way()
    {
        Assert.Throws<ConfigException>(() => ConfigLoader.ApplyToml(new CrispConfig(), "log_levl = \"debug\"\n", "values config"));
    }

    [Fact]
    public void Default_values_leave_the_node_config_alone_and_install_where_make_install_does()
    {
        var values = Load(Path.Combine(ChartPaths.Chart, "values.yaml"));
        var makefile = File.ReadAllText(Path.Combine(ChartPaths.RepositoryRoot, "Makefile"));

        Assert.Equal("", Scalar(values, "config"));
        Assert.Equal(Regex.Match(makefile, @"^PREFIX \?= (\S+)$", RegexOptions.Multiline).Groups[1].Value, Scalar(values, "prefix"));
    }

    [Fact]
    public void Runtime_classes_name_handlers_crisp_configures_by_default()
    {
        var handlers = ((YamlSequenceNode)((YamlMappingNode)Load(Path.Combine(ChartPaths.Chart, "values.yaml"))["runtimeClasses"])["handlers"])
            .Select(n => ((YamlScalarNode)n).Value).ToList();

        // runc always; crun whenever it is installed (ConfigLoader's defaults).
        Assert.Equal(["runc", "crun"], handlers);
        var defaults = ConfigLoader.Load(ConfigLoader.ParseCommandLine(["--config", Path.GetTempFileName()]));
        Assert.Contains(defaults.RuntimeHandlers, h => h.Name == "runc");
    }

    [Fact]
    public void The_chart_app_version_is_the_build_version()
    {
        var chart = Load(Path.Combine(ChartPaths.Chart, "Chart.yaml"));
        var props = File.ReadAllText(Path.Combine(ChartPaths.RepositoryRoot, "Directory.Build.props"));

        Assert.Equal(Regex.Match(props, "<Version>(.*)</Version>").Groups[1].Value, Scalar(chart, "appVersion"));
    }
}
