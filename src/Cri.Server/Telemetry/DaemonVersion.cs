using System.Reflection;

namespace Crisp.Server.Telemetry;

/// <summary>The version crispd reports in Version, logs and telemetry.</summary>
public static class DaemonVersion
{
    public static readonly string Version =
        typeof(DaemonVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(DaemonVersion).Assembly.GetName().Version?.ToString()
        ?? "0.0.0";
}
