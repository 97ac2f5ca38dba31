using Crisp.Server.Config;

namespace Crisp.Server.Hosting;

/// <summary>What every handler may need about the daemon itself: its effective config (replaced when SIGHUP applies live keys).</summary>
public sealed class DaemonContext(CrispConfig config)
{
    private volatile Snapshot _current = new(config, ConfigDocumentation.ToJson(config));

    public CrispConfig Config => _current.Config;
    public string ConfigJson => _current.Json;

    /// <summary>Publishes the config a reload settled on; readers see the old or the new one whole, never a mix.</summary>
    public void Replace(CrispConfig effective) => _current = new Snapshot(effective, ConfigDocumentation.ToJson(effective));

    private sealed record Snapshot(CrispConfig Config, string Json);
}
