using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Crisp.Server.Telemetry;

/// <summary>The daemon's trace source and meter; every CRI call records one span and two metrics here.</summary>
public static class CrispTelemetry
{
    public const string Name = "crisp";

    public static readonly ActivitySource Source = new(Name, DaemonVersion.Version);
    public static readonly Meter Meter = new(Name, DaemonVersion.Version);

    public static readonly Counter<long> RpcCount =
        Meter.CreateCounter<long>("crisp.rpc.requests", unit: "{request}", description: "CRI calls handled, by rpc and status code");

    public static readonly Histogram<double> RpcDuration =
        Meter.CreateHistogram<double>("crisp.rpc.duration", unit: "s", description: "CRI call latency, by rpc and status code");
}
