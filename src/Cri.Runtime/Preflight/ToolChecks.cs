using Crisp.Runtime.Api;
using Crisp.Runtime.Network;

namespace Crisp.Runtime.Preflight;

/// <summary>The programs crisp drives: the OCI runtimes (probed by running a container, as at start), conmon, CNI.</summary>
internal static class ToolChecks
{
    public static async Task<IReadOnlyList<PreflightItem>> HandlersAsync(PreflightHost host, RuntimeOptions options, CancellationToken ct)
    {
        var systemd = options.CgroupDriver == "systemd";
        var checks = options.Handlers.Select(h => HandlerAsync(host, h, h.Name == options.DefaultHandler, systemd, ct));
        var items = (await Task.WhenAll(checks).ConfigureAwait(false)).ToList();
        // crun is offered when installed; say so when it is not, since the kubelet may name it in a RuntimeClass.
        if (options.Handlers.All(h => h.Name != "crun") && host.FindExecutable("crun") is null)
            items.Add(PreflightItem.Ok("runtime crun", "not installed (optional; runc is enough)"));
        return items;
    }

    private static async Task<PreflightItem> HandlerAsync(PreflightHost host, RuntimeHandlerOptions handler, bool isDefault, bool systemd, CancellationToken ct)
    {
        var name = $"runtime {handler.Name}";
        var role = isDefault ? "the default handler" : "an extra handler";
        var path = host.FindExecutable(handler.Path);
        if (path is null)
        {
            var fix = $"install {handler.Path} or point [runtime.handlers.{handler.Name}] path at it";
            return isDefault
                ? PreflightItem.Missing(name, $"{handler.Path} not found ({role})", fix)
                : PreflightItem.Degraded(name, $"{handler.Path} not found ({role}: pods naming it are refused)", fix + ", or remove the handler");
        }
        var version = await host.ReadVersion(path, ct).ConfigureAwait(false) ?? "version unknown";
        var availability = await host.ProbeHandler(handler, systemd, ct).ConfigureAwait(false);
        if (availability.Ready)
            return PreflightItem.Ok(name, $"{version} at {path}: runs containers here ({role})");
        var reason = $"{version} at {path}: {availability.Reason}";
        return isDefault
            ? PreflightItem.Missing(name, $"{reason} ({role})", "fix the runtime or set runtime.default_handler to a handler that runs here")
            : PreflightItem.Degraded(name, $"{reason} ({role}: reported not ready, pods naming it are refused)",
                "fix the runtime or remove the handler from crisp.toml");
    }

    public static async Task<PreflightItem> ConmonAsync(PreflightHost host, string conmonPath, CancellationToken ct)
    {
        var path = host.FindExecutable(conmonPath);
        if (path is null)
            return PreflightItem.Missing("conmon", $"{conmonPath} not found; every container runs under its own conmon",
                "apt-get install conmon, or set runtime.conmon_path");
        var version = await host.ReadVersion(path, ct).ConfigureAwait(false);
        return version is null
            ? PreflightItem.Missing("conmon", $"{path} --version failed", "reinstall conmon")
            : PreflightItem.Ok("conmon", $"{version} at {path}");
    }

    public static PreflightItem Cni(RuntimeOptions options)
    {
        var plugins = new CniPluginExecutor(options.CniBinDirs);
        var binDirs = string.Join(", ", options.CniBinDirs);
        var state = CniConfigProbe.Probe(options.CniConfDir);
        IReadOnlyList<string> types;
        string what;
        if (state.Config is { } config)
        {
            types = Binaries(config);
            what = $"network {config.Name} from {config.SourceFile}";
        }
        else if (options.CniWriteDefaultConfig)
        {
            types = Binaries(CniNetworkConfig.Parse(System.Text.Encoding.UTF8.GetBytes(DefaultCniConfig.Content), isList: true));
            what = $"no config yet; crispd writes {DefaultCniConfig.FileName} into {options.CniConfDir}";
        }
        else
        {
            return PreflightItem.Degraded("CNI", $"{state.Message}: only hostNetwork pods can run",
                $"install a network (a CNI daemonset, or a .conflist in {options.CniConfDir}), or set network.write_default_cni_config = true");
        }
        var missing = types.Where(t => !plugins.Exists(t)).ToList();
        return missing.Count == 0
            ? PreflightItem.Ok("CNI", $"{what}; plugins {string.Join(", ", types)} found in {binDirs}")
            : PreflightItem.Degraded("CNI", $"{what}; plugins {string.Join(", ", missing)} not found in {binDirs}: pod networking fails",
                $"install them (apt-get install containernetworking-plugins) or add their directory to network.cni_bin_dirs");
    }

    /// <summary>Each plugin of the chain and the IPAM plugin it delegates to.</summary>
    private static List<string> Binaries(CniNetworkConfig config) =>
        config.PluginTypes
            .Concat(config.Plugins.Select(p => (p["ipam"] as System.Text.Json.Nodes.JsonObject)?["type"]?.GetValue<string>()).OfType<string>())
            .Distinct(StringComparer.Ordinal)
            .ToList();
}
