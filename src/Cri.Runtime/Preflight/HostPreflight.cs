using Crisp.Runtime.Api;

namespace Crisp.Runtime.Preflight;

/// <summary>
/// `crispd check`: every host prerequisite of crisp, each ok, degraded or missing with its fix. Uses the probes
/// crispd itself starts with (HandlerProbe runs a real container, CniConfigProbe picks the network crisp would),
/// so the answer is what crispd would find.
/// </summary>
public static class HostPreflight
{
    public static Task<IReadOnlyList<PreflightItem>> RunAsync(RuntimeOptions options, CancellationToken ct) =>
        RunAsync(options, PreflightHost.Default(), ct);

    internal static async Task<IReadOnlyList<PreflightItem>> RunAsync(RuntimeOptions options, PreflightHost host, CancellationToken ct)
    {
        var items = new List<PreflightItem> { KernelChecks.Privileges(host) };
        items.AddRange(KernelChecks.Cgroups(host, options.CgroupDriver));
        items.Add(KernelChecks.Overlay(host));
        items.Add(KernelChecks.IdmappedMounts(host));
        items.AddRange(await ToolChecks.HandlersAsync(host, options, ct).ConfigureAwait(false));
        items.Add(await ToolChecks.ConmonAsync(host, options.ConmonPath, ct).ConfigureAwait(false));
        items.Add(ToolChecks.Cni(options));
        items.Add(KernelChecks.Seccomp(host));
        items.Add(KernelChecks.Lsm(host));
        items.Add(KernelChecks.OomScoreAdj(host));
        items.Add(StorageCheck.FreeSpace(host, options.Root));
        return items;
    }

    /// <summary>Exit status of `crispd check`: 1 when anything is missing (crisp cannot run), else 0.</summary>
    public static int ExitCode(IEnumerable<PreflightItem> items) => items.Any(i => i.Status == PreflightStatus.Missing) ? 1 : 0;
}
