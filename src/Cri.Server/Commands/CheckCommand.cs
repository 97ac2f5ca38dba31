using System.Globalization;
using Crisp.Runtime.Preflight;
using Crisp.Server.Config;
using Crisp.Server.Hosting;

namespace Crisp.Server.Commands;

/// <summary>
/// `crispd check [--config PATH] [--KEY VALUE ...]`: the host prerequisites for the config crispd would start with,
/// one line each (ok, degraded or missing, with the fix), and exit 1 when crisp cannot run here.
/// </summary>
public static class CheckCommand
{
    public const string Name = "check";

    public static async Task<int> RunAsync(CrispConfig config, TextWriter output, CancellationToken ct)
    {
        var items = new List<PreflightItem>(await HostPreflight.RunAsync(DaemonHost.RuntimeOptions(config), ct).ConfigureAwait(false))
        {
            Socket(config.GrpcSocket),
        };
        var nameWidth = items.Max(i => i.Name.Length) + 2;
        foreach (var item in items)
            await output.WriteLineAsync(Format(item, nameWidth)).ConfigureAwait(false);

        var exitCode = HostPreflight.ExitCode(items);
        var missing = items.Count(i => i.Status == PreflightStatus.Missing);
        var degraded = items.Count(i => i.Status == PreflightStatus.Degraded);
        await output.WriteLineAsync(exitCode == 0
            ? $"crisp can run here ({degraded.ToString(CultureInfo.InvariantCulture)} degraded)"
            : $"crisp cannot run here: {missing.ToString(CultureInfo.InvariantCulture)} missing").ConfigureAwait(false);
        return exitCode;
    }

    internal static string Format(PreflightItem item, int nameWidth)
    {
        var status = item.Status switch
        {
            PreflightStatus.Ok => "ok",
            PreflightStatus.Degraded => "degraded",
            _ => "missing",
        };
        var line = $"{status,-9} {item.Name.PadRight(nameWidth)}{item.Detail}";
        return item.Fix is null ? line : $"{line} (fix: {item.Fix})";
    }

    /// <summary>Whether crispd could listen on the configured socket; a crispd already serving there is fine for a check.</summary>
    internal static PreflightItem Socket(string socketPath)
    {
        const string name = "socket";
        var endpoint = $"kubelet: --container-runtime-endpoint=unix://{socketPath}";
        if (File.Exists(socketPath) && SocketPreparation.IsAnswering(socketPath))
            return PreflightItem.Ok(name, $"{socketPath} is served already (a running crispd); {endpoint}");
        if (SocketPreparation.Problem(socketPath) is { } problem)
            return PreflightItem.Missing(name, problem, "free the path or set grpc.socket to another one");
        return PreflightItem.Ok(name, $"{socketPath} is free; {endpoint}");
    }
}
