using Crisp.ImageService.Api;
using Crisp.ImageService.Registry;
using Crisp.Runtime.Network;
using Crisp.Server.Config;

namespace Crisp.Server.Hosting;

/// <summary>
/// SIGHUP (systemctl reload crisp): re-reads crisp.toml and applies its live keys, re-reads registries.conf and its
/// drop-ins, and re-reads the CNI conf dir. A file that does not load leaves what is running untouched and the log
/// says why; a changed key that needs a restart is logged as such. The signal itself is caught from the start of
/// Main (<see cref="SighupSignal"/>); one that arrived while crispd was starting is answered by a reload here.
/// </summary>
public sealed partial class ReloadOnSighup(
    DaemonContext daemon,
    CommandLine commandLine,
    LogLevelSwitch logLevel,
    ImageServiceOptions imageOptions,
    RegistryClient registry,
    CniConfigSource cni,
    SystemdReadiness readiness,
    SighupSignal sighup,
    ILogger<ReloadOnSighup> logger) : IHostedService, IDisposable
{
    private static readonly string[] RegistriesKeys = ["image.registries_conf", "image.registries_conf_dir"];

    private readonly SemaphoreSlim _oneAtATime = new(1, 1);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (sighup.Attach(ReloadInBackground))
        {
            LogArrivedWhileStarting(logger);
            ReloadInBackground();
        }
        return Task.CompletedTask;
    }

    private void ReloadInBackground() => _ = Task.Run(ReloadAsync, CancellationToken.None);

    public Task StopAsync(CancellationToken cancellationToken)
    {
        sighup.Detach();
        return Task.CompletedTask;
    }

    public async Task ReloadAsync()
    {
        await _oneAtATime.WaitAsync().ConfigureAwait(false);
        try
        {
            readiness.NotifyReloading();
            LogReloading(logger);
            Reload();
        }
        finally
        {
            readiness.NotifyReloaded(daemon.Config.GrpcSocket);
            _oneAtATime.Release();
        }
    }

    private void Reload()
    {
        var running = daemon.Config;
        var effective = ReloadCrispToml(running);
        effective = ReloadRegistries(running, effective);
        daemon.Replace(effective);
        var network = cni.Reread();
        if (network.Ready) LogCniReady(logger, cni.ConfDir, network.NetworkName, network.ConfigFile);
        else LogCniNotReady(logger, network.Message);
    }

    private CrispConfig ReloadCrispToml(CrispConfig running)
    {
        CrispConfig reread;
        try
        {
            reread = ConfigLoader.Load(commandLine);
        }
        catch (ConfigException e)
        {
            LogConfigKept(logger, e.Message);
            return running;
        }
        var plan = ConfigReloadPlan.Create(running, reread);
        foreach (var change in plan.NeedRestart) LogNeedsRestart(logger, change.Key, change.From, change.To);
        foreach (var change in plan.Applied) LogApplied(logger, change.Key, change.From, change.To);

        var effective = plan.Effective;
        logLevel.Minimum = LogLevelSwitch.Parse(effective.LogLevel);
        imageOptions.MaxConcurrentDownloads = (int)effective.ImageMaxConcurrentDownloads;
        imageOptions.PullProgressTimeout = TimeSpan.FromSeconds(effective.ImagePullProgressTimeoutSeconds);
        return effective;
    }

    private CrispConfig ReloadRegistries(CrispConfig running, CrispConfig effective)
    {
        try
        {
            var configuration = RegistryConfiguration.Load(effective.ImageRegistriesConf, effective.ImageRegistriesConfDir);
            registry.UseConfiguration(configuration);
            LogRegistriesLoaded(logger, effective.ImageRegistriesConf, effective.ImageRegistriesConfDir, configuration.Rules.Count);
            return effective;
        }
        catch (ImageServiceException e)
        {
            LogRegistriesKept(logger, e.Message);
            // The mapping in use still comes from the old files: say so in `crictl info` too.
            return ConfigReloadPlan.Restore(effective, running, RegistriesKeys);
        }
    }

    public void Dispose() => _oneAtATime.Dispose();

    [LoggerMessage(Level = LogLevel.Information, Message = "SIGHUP received while crispd was starting: reloading now that it runs")]
    private static partial void LogArrivedWhileStarting(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "SIGHUP: reloading crisp.toml, registries.conf and the CNI conf dir")]
    private static partial void LogReloading(ILogger logger);

    [LoggerMessage(Level = LogLevel.Error, Message = "SIGHUP: crisp.toml not reloaded, the running configuration stays: {Reason}")]
    private static partial void LogConfigKept(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "SIGHUP: {Key} changed from {From} to {To}, applied")]
    private static partial void LogApplied(ILogger logger, string key, string from, string to);

    [LoggerMessage(Level = LogLevel.Warning, Message = "SIGHUP: {Key} changed from {From} to {To}, which needs a restart of crispd; the running value stays until then")]
    private static partial void LogNeedsRestart(ILogger logger, string key, string from, string to);

    [LoggerMessage(Level = LogLevel.Information, Message = "SIGHUP: registries configuration reloaded from {File} and {Dir}: {Rules} [[registry]] rules")]
    private static partial void LogRegistriesLoaded(ILogger logger, string file, string dir, int rules);

    [LoggerMessage(Level = LogLevel.Error, Message = "SIGHUP: registries configuration not reloaded, the previous mapping stays: {Reason}")]
    private static partial void LogRegistriesKept(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "SIGHUP: CNI conf dir {Dir}: network {Network} from {File}")]
    private static partial void LogCniReady(ILogger logger, string dir, string? network, string? file);

    [LoggerMessage(Level = LogLevel.Warning, Message = "SIGHUP: CNI not ready: {Message}")]
    private static partial void LogCniNotReady(ILogger logger, string message);
}
