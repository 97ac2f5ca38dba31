using Crisp.Server.Config;

namespace Crisp.Server.Hosting;

/// <summary>What every handler may need about the daemon itself: its effective config.</summary>
public sealed class DaemonContext(CrispConfig config)
{
    public CrispConfig Config { get; } = config;
    public string ConfigJson { get; } = ConfigDocumentation.ToJson(config);
}
