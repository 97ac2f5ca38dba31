using Crisp.Server.Config;
using Xunit;

namespace Crisp.Server.Tests.Config;

public sealed class ConfigReloadPlanTests
{
    private static CrispConfig Parse(string toml)
    {
        var config = new CrispConfig();
        ConfigLoader.ApplyToml(config, toml, "test.toml");
        return config;
    }

    [Fact]
    public void Live_keys_are_taken_and_the_others_stay_and_are_reported_as_needing_a_restart()
    {
        var running = Parse("log_level = \"debug\"\n[grpc]\nsocket = \"/run/a.sock\"\n[image]\nmax_concurrent_downloads = 2\n");
        var reread = Parse("log_level = \"warn\"\n[grpc]\nsocket = \"/run/b.sock\"\n[image]\nmax_concurrent_downloads = 8\n");

        var plan = ConfigReloadPlan.Create(running, reread);

        Assert.Equal("warn", plan.Effective.LogLevel);
        Assert.Equal(8, plan.Effective.ImageMaxConcurrentDownloads);
        Assert.Equal("/run/a.sock", plan.Effective.GrpcSocket);
        Assert.Equal(["image.max_concurrent_downloads", "log_level"], plan.Applied.Select(c => c.Key).Order());
        var restart = Assert.Single(plan.NeedRestart);
        Assert.Equal(new ConfigChange("grpc.socket", "/run/a.sock", "/run/b.sock"), restart);
    }

    [Fact]
    public void The_running_config_is_not_changed_by_planning()
    {
        var running = Parse("log_level = \"debug\"\n[image]\npinned_images = [\"a\"]\n");
        var reread = Parse("log_level = \"error\"\n[image]\npinned_images = [\"a\", \"b\"]\n");

        var plan = ConfigReloadPlan.Create(running, reread);

        Assert.Equal("debug", running.LogLevel);
        Assert.Equal(["a"], plan.Effective.ImagePinnedImages);
        Assert.Contains(plan.NeedRestart, c => c.Key == "image.pinned_images" && c.To == "a,b");
    }

    [Fact]
    public void A_changed_handler_table_needs_a_restart()
    {
        var running = new CrispConfig { RuntimeHandlers = [new HandlerConfig("runc", "runc", "/run/crisp/runc")] };
        var reread = new CrispConfig { RuntimeHandlers = [new HandlerConfig("runc", "/opt/runc", "/run/crisp/runc")] };

        var plan = ConfigReloadPlan.Create(running, reread);

        Assert.Equal("runtime.handlers", Assert.Single(plan.NeedRestart).Key);
        Assert.Equal("runc", Assert.Single(plan.Effective.RuntimeHandlers).Path);
    }

    [Fact]
    public void Restore_puts_back_the_running_values_of_the_named_keys_only()
    {
        var running = Parse("log_level = \"debug\"\n[image]\nregistries_conf = \"/etc/a.conf\"\n");
        var reread = Parse("log_level = \"info\"\n[image]\nregistries_conf = \"/etc/b.conf\"\n");
        var plan = ConfigReloadPlan.Create(running, reread);

        var restored = ConfigReloadPlan.Restore(plan.Effective, running, ["image.registries_conf"]);

        Assert.Equal("/etc/a.conf", restored.ImageRegistriesConf);
        Assert.Equal("info", restored.LogLevel);
    }

    [Fact]
    public void Every_reloadable_key_is_a_declared_key()
    {
        var declared = ConfigSchema.Options.Select(o => o.Path).ToHashSet();

        Assert.All(ConfigSchema.ReloadableKeys, key => Assert.Contains(key, declared));
    }
}
