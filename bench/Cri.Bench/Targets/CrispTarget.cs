using Crisp.E2E.Daemon;

namespace Crisp.Bench;

/// <summary>crispd (the native binary when `make build` made one, else the JIT build) on the e2e fixture's private dirs.</summary>
public sealed class CrispTarget(CrispDaemon daemon) : CriTarget
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);

    public CrispDaemon Daemon => daemon;

    public override string Label => CrispLauncher.Describe();

    public override CriClient Client => daemon.Client;

    public override int? ProcessId => daemon.ProcessId;

    public override string LogDirectory => daemon.LogDirectory;

    public static async Task<CrispTarget> StartAsync(DaemonOptions? options = null)
    {
        var daemon = await CrispDaemon.StartAsync(WithoutWaiting(options ?? new DaemonOptions()));
        var target = new CrispTarget(daemon);
        try
        {
            await target.WaitUntilServingAsync();
            return target;
        }
        catch
        {
            await target.DisposeAsync();
            throw;
        }
    }

    public override Task KillAsync() => daemon.KillAsync();

    public override async Task RestartAsync()
    {
        await daemon.RestartAsync();
        await WaitUntilServingAsync();
    }

    public override ValueTask DisposeAsync() => daemon.DisposeAsync();

    private Task WaitUntilServingAsync() =>
        ServingProbe.WaitAsync("crispd", daemon.SocketPath, () => daemon.Client, () => daemon.ProcessId is null, () => daemon.Output, StartTimeout);

    // The fixture's own wait polls every 50 ms, too coarse for a start measured in milliseconds.
    private static DaemonOptions WithoutWaiting(DaemonOptions options) => new()
    {
        ExtraToml = options.ExtraToml,
        Flags = options.Flags,
        RegistriesConf = options.RegistriesConf,
        CniConfDir = options.CniConfDir,
        CniConfig = options.CniConfig,
        SocketPath = options.SocketPath,
        Environment = options.Environment,
        WaitUntilServing = false,
    };
}

public sealed class CrispLauncher : ICriTargetLauncher
{
    public string Label => Describe();

    public bool StartsFresh => true;

    public async Task<CriTarget> StartAsync(string? sandboxImage, CancellationToken cancellationToken) => await CrispTarget.StartAsync();

    /// <summary>
    /// Which crispd build runs: the footprint of the native and the JIT one differ by tens of MiB. A JIT apphost always
    /// has its crispd.dll beside it, wherever CRISPD_PATH puts it; the native binary has none.
    /// </summary>
    public static string Describe() =>
        File.Exists(Path.ChangeExtension(DaemonBinary.Path, ".dll")) ? "crispd (JIT)" : "crispd (native)";
}
