using System.Text.Json;
using Crisp.Cri.V1;
using Crisp.E2E.Fixtures;
using Xunit;

namespace Crisp.E2E.Daemon;

/// <summary>
/// SIGHUP over a running crispd: registries.conf written after the start takes effect without a restart, a broken
/// one keeps the mapping in use and says why; crisp.toml's live keys apply, the others are logged as needing a restart.
/// </summary>
public sealed class ReloadTests : IAsyncLifetime
{
    private const string MappedRegistry = "reloaded.crisp.test";
    private static readonly TimeSpan LogWait = TimeSpan.FromSeconds(20);

    private RegistryWithImages _registry = null!;
    private CrispDaemon _daemon = null!;

    public async Task InitializeAsync()
    {
        _registry = await RegistryWithImages.GetSharedAsync();
        _daemon = await CrispDaemon.StartAsync();
    }

    public async Task DisposeAsync() => await _daemon.DisposeAsync();

    private async Task<string> PushPrivateCopyAsync()
    {
        string repository = $"crisp-test/reload-{Guid.NewGuid():N}";
        await ImagePusher.PushAsync(await TestImages.Busybox, _registry.Registry, repository);
        return repository;
    }

    private Task<PullImageResponse> PullAsync(string reference) =>
        _daemon.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = reference } }).ResponseAsync;

    private async Task<string> ReloadAsync(string expectedLog)
    {
        var offset = _daemon.Output.Length;
        _daemon.Reload();
        return await _daemon.WaitForOutputAsync(expectedLog, offset, LogWait);
    }

    [Fact]
    public async Task A_registries_conf_written_after_start_applies_on_SIGHUP_and_a_broken_one_keeps_the_mapping()
    {
        await File.WriteAllTextAsync(_daemon.RegistriesConfPath, $"""
            [[registry]]
            prefix = "{MappedRegistry}"
            location = "{_registry.Host}"
            insecure = true
            """);
        await ReloadAsync("registries configuration reloaded");
        string first = await PushPrivateCopyAsync();

        PullImageResponse pulled = await PullAsync($"{MappedRegistry}/{first}:latest");

        Assert.Equal((await TestImages.Busybox).ImageId, pulled.ImageRef);

        await File.WriteAllTextAsync(_daemon.RegistriesConfPath, "[[registry]\nprefix = ");
        string kept = await ReloadAsync("registries configuration not reloaded");
        Assert.Contains(_daemon.RegistriesConfPath, kept);
        Assert.Contains("not valid TOML", kept);
        string second = await PushPrivateCopyAsync();

        PullImageResponse pulledAfterBrokenFile = await PullAsync($"{MappedRegistry}/{second}:latest");

        Assert.Equal((await TestImages.Busybox).ImageId, pulledAfterBrokenFile.ImageRef);
    }

    [Fact]
    public async Task Crisp_toml_live_keys_apply_and_the_others_are_logged_as_needing_a_restart()
    {
        await _daemon.Runtime.VersionAsync(new VersionRequest());
        await _daemon.WaitForOutputAsync("Version -> OK", 0, LogWait); // debug lines are on
        string original = await File.ReadAllTextAsync(_daemon.ConfigPath);
        string changed = original
            .Replace("log_level = \"debug\"", "log_level = \"info\"", StringComparison.Ordinal)
            .Replace("shutdown_timeout_seconds = 5", "shutdown_timeout_seconds = 7", StringComparison.Ordinal);
        Assert.NotEqual(original, changed);
        await File.WriteAllTextAsync(_daemon.ConfigPath, changed);

        string restart = await ReloadAsync("grpc.shutdown_timeout_seconds changed from 5 to 7, which needs a restart");
        string applied = await _daemon.WaitForOutputAsync("log_level changed from debug to info, applied", 0, LogWait);

        Assert.Contains("warn", restart);
        Assert.Contains("info", applied);
        // The level applies at once: a call's debug line no longer appears. The console logger writes in order, so
        // once a later info line is out, the debug line would have been too.
        var afterReload = _daemon.Output.Length;
        await _daemon.Runtime.VersionAsync(new VersionRequest());
        await ReloadAsync("SIGHUP: reloading");
        Assert.DoesNotContain("Version -> OK", _daemon.Output[afterReload..]);

        // crictl info shows what is in effect: the new log level, the old shutdown timeout.
        var info = await _daemon.Runtime.StatusAsync(new StatusRequest { Verbose = true });
        using var config = JsonDocument.Parse(info.Info["config"]);
        Assert.Equal("info", config.RootElement.GetProperty("log_level").GetString());
        Assert.Equal(5, config.RootElement.GetProperty("grpc").GetProperty("shutdown_timeout_seconds").GetInt64());
    }

    [Fact]
    public async Task A_broken_crisp_toml_keeps_the_running_config_and_says_why()
    {
        await File.AppendAllTextAsync(_daemon.ConfigPath, "\nno_such_key = 1\n");

        string kept = await ReloadAsync("crisp.toml not reloaded");

        Assert.Contains("no_such_key", kept);
        var version = await _daemon.Runtime.VersionAsync(new VersionRequest());
        Assert.Equal("crisp", version.RuntimeName);
    }
}
