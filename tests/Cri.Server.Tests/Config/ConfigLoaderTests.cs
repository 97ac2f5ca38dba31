using Crisp.Server.Config;
using Xunit;

namespace Crisp.Server.Tests.Config;

public sealed class ConfigLoaderTests
{
    private static CrispConfig FromToml(string toml)
    {
        var config = new CrispConfig();
        ConfigLoader.ApplyToml(config, toml, "test.toml");
        return config;
    }

    private static CrispConfig LoadWith(params string[] args) =>
        ConfigLoader.Load(ConfigLoader.ParseCommandLine(["--config", EmptyFile(), .. args]));

    private static string EmptyFile()
    {
        var path = Path.GetTempFileName();
        File.WriteAllText(path, "");
        return path;
    }

    [Fact]
    public void Defaults_match_the_documented_paths()
    {
        var config = LoadWith();
        Assert.Equal("/run/crisp/crisp.sock", config.GrpcSocket);
        Assert.Equal("/var/lib/crisp", config.Root);
        Assert.Equal("/run/crisp", config.StateDir);
        Assert.Equal("cgroupfs", config.RuntimeCgroupDriver);
        Assert.Equal(16 * 1024 * 1024, config.GrpcMaxMessageBytes);
        Assert.Equal(["/usr/lib/cni", "/opt/cni/bin"], config.NetworkCniBinDirs);
        var runc = Assert.Single(config.RuntimeHandlers, h => h.Name == "runc");
        Assert.Equal("/run/crisp/runc", runc.Root);
    }

    [Fact]
    public void File_values_override_defaults()
    {
        var config = FromToml("""
            root = "/data/crisp"
            [grpc]
            socket = "/tmp/c.sock"
            max_message_bytes = 1048576
            [network]
            cni_bin_dirs = ["/opt/a", "/opt/b"]
            write_default_cni_config = true
            [runtime.handlers.kata]
            path = "/usr/bin/kata-runtime"
            root = "/run/kata"
            """);
        Assert.Equal("/data/crisp", config.Root);
        Assert.Equal("/tmp/c.sock", config.GrpcSocket);
        Assert.Equal(1048576, config.GrpcMaxMessageBytes);
        Assert.Equal(["/opt/a", "/opt/b"], config.NetworkCniBinDirs);
        Assert.True(config.NetworkWriteDefaultCniConfig);
        Assert.Equal(new HandlerConfig("kata", "/usr/bin/kata-runtime", "/run/kata"), Assert.Single(config.RuntimeHandlers));
    }

    [Fact]
    public void Flags_override_the_file()
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, "[image]\nmax_concurrent_downloads = 8\n");
        var config = ConfigLoader.Load(ConfigLoader.ParseCommandLine(
            ["--config", file, "--image-max-concurrent-downloads=2", "--log-level", "debug", "--network-cni-bin-dirs", "/x,/y"]));
        Assert.Equal(2, config.ImageMaxConcurrentDownloads);
        Assert.Equal("debug", config.LogLevel);
        Assert.Equal(["/x", "/y"], config.NetworkCniBinDirs);
        Assert.Equal(file, config.SourceFile);
    }

    [Fact]
    public void Handler_flag_adds_a_handler_rooted_under_state_dir()
    {
        var config = LoadWith("--state-dir", "/run/other", "--runtime-handler", "runc=/usr/sbin/runc");
        var runc = Assert.Single(config.RuntimeHandlers);
        Assert.Equal(new HandlerConfig("runc", "/usr/sbin/runc", "/run/other/runc"), runc);
    }

    [Theory]
    [InlineData("bogus = 1", "unknown key \"bogus\"")]
    [InlineData("[grpc]\nsocket_path = \"/x\"", "unknown key \"grpc.socket_path\"")]
    [InlineData("[nope]\nx = 1", "unknown table [nope]")]
    [InlineData("log_level = \"loud\"", "key \"log_level\" must be one of")]
    [InlineData("[grpc]\nmax_message_bytes = \"big\"", "key \"grpc.max_message_bytes\" must be an integer")]
    [InlineData("[image]\nmax_concurrent_downloads = 0", "key \"image.max_concurrent_downloads\" must be between 1 and 64")]
    [InlineData("root = \"relative/path\"", "key \"root\" must be an absolute path")]
    [InlineData("[runtime]\ncgroup_driver = \"other\"", "key \"runtime.cgroup_driver\" must be one of cgroupfs, systemd")]
    [InlineData("[runtime.handlers.runc]\nbinary = \"runc\"", "unknown key \"runtime.handlers.runc.binary\"")]
    [InlineData("[metrics]\nprometheus_address = \"nope\"", "key \"metrics.prometheus_address\" must be host:port")]
    [InlineData("root = ", "not valid TOML")]
    public void Bad_files_fail_naming_the_file_and_key(string toml, string expected)
    {
        var error = Assert.Throws<ConfigException>(() => FromToml(toml));
        Assert.Contains("test.toml", error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Theory]
    [InlineData(new[] { "--no-such-flag", "1" }, "unknown flag --no-such-flag")]
    [InlineData(new[] { "--grpc-max-message-bytes", "lots" }, "must be an integer")]
    [InlineData(new[] { "--network-write-default-cni-config", "maybe" }, "must be true or false")]
    [InlineData(new[] { "--runtime-default-handler", "kata" }, "\"kata\" is not a configured handler")]
    [InlineData(new[] { "--runtime-handler", "noequals" }, "expected NAME=PATH")]
    [InlineData(new[] { "--root" }, "flag --root needs a value")]
    public void Bad_flags_fail_naming_the_flag(string[] args, string expected)
    {
        var error = Assert.Throws<ConfigException>(() => LoadWith(args));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Allowed_annotations_default_to_none_and_take_prefixes_from_file_or_flag()
    {
        Assert.Empty(LoadWith().RuntimeAllowedAnnotations);
        Assert.Equal(["run.oci.keep_original_groups"], FromToml("""
            [runtime]
            allowed_annotations = ["run.oci.keep_original_groups"]
            """).RuntimeAllowedAnnotations);
        Assert.Equal(["org.systemd.property."], LoadWith("--runtime-allowed-annotations", "org.systemd.property.").RuntimeAllowedAnnotations);
        var error = Assert.Throws<ConfigException>(() => FromToml("""
            [runtime]
            allowed_annotations = [""]
            """));
        Assert.Contains("runtime.allowed_annotations", error.Message);
    }

    [Fact]
    public void A_missing_explicit_config_file_is_an_error()
    {
        var error = Assert.Throws<ConfigException>(() =>
            ConfigLoader.Load(ConfigLoader.ParseCommandLine(["--config", "/nonexistent/crisp.toml"])));
        Assert.Contains("/nonexistent/crisp.toml does not exist", error.Message);
    }

    [Fact]
    public void The_printed_default_config_parses_back_to_the_defaults()
    {
        var config = FromToml(ConfigDocumentation.DefaultToml());
        var defaults = new CrispConfig();
        foreach (var option in ConfigSchema.Options)
            Assert.Equal(option.Get(defaults), option.Get(config));
    }

    [Fact]
    public void Help_lists_every_key_as_a_flag_with_its_default()
    {
        var help = ConfigDocumentation.Help();
        foreach (var option in ConfigSchema.Options) Assert.Contains(option.Flag, help);
        Assert.Contains("(default: /run/crisp/crisp.sock)", help);
        Assert.Contains("--print-default-config", help);
    }

    [Fact]
    public void Command_line_switches_are_recognised()
    {
        var commandLine = ConfigLoader.ParseCommandLine(["--help", "--print-default-config", "--version"]);
        Assert.True(commandLine.ShowHelp);
        Assert.True(commandLine.PrintDefaultConfig);
        Assert.True(commandLine.ShowVersion);
    }
}
