using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Crisp.E2E.Fixtures;

namespace Crisp.Bench;

/// <summary>
/// The floor under any runtime's pod networking: a pinned network namespace (<c>ip netns add</c>) and the
/// conflist's plugins run directly, ADD in order and DEL in reverse as the CNI spec chains them, with no daemon
/// in between. What a pod-network sandbox costs beyond this is the runtime's own share.
/// </summary>
public sealed class CniFloor(string conflist, string pluginDirectory = "/usr/lib/cni")
{
    private const string InterfaceName = "eth0";

    private readonly Dictionary<string, JsonArray?> _live = new(StringComparer.Ordinal);

    /// <summary>One attachment: netns + ADD chain, then DEL chain + netns removal; the two durations in milliseconds.</summary>
    public async Task<(double Add, double Delete)> RunOnceAsync(string id, JsonArray? portMappings, CancellationToken cancellationToken)
    {
        var netnsName = id;
        var netnsPath = $"/run/netns/{netnsName}";

        var started = Stopwatch.GetTimestamp();
        _live[id] = portMappings;
        await ToolRunner.RunCheckedAsync("ip", ["netns", "add", netnsName], cancellationToken);
        var result = await AddChainAsync(id, netnsPath, portMappings, cancellationToken);
        var add = Stopwatch.GetElapsedTime(started).TotalMilliseconds;

        started = Stopwatch.GetTimestamp();
        await DeleteChainAsync(id, netnsPath, portMappings, result, cancellationToken);
        await ToolRunner.RunCheckedAsync("ip", ["netns", "delete", netnsName], cancellationToken);
        var delete = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        _live.Remove(id);
        return (add, delete);
    }

    /// <summary>DEL and netns removal for attachments a failure left behind; the errors met.</summary>
    public async Task<IReadOnlyList<string>> CleanUpAsync()
    {
        var problems = new List<string>();
        foreach (var (id, portMappings) in _live)
        {
            try
            {
                await DeleteChainAsync(id, $"/run/netns/{id}", portMappings, null, CancellationToken.None);
            }
            catch (InvalidOperationException e)
            {
                problems.Add($"CNI DEL of floor attachment {id}: {e.Message}");
            }
            if (!File.Exists($"/run/netns/{id}")) continue;
            var netns = await ToolRunner.RunAsync("ip", ["netns", "delete", id]);
            if (!netns.Succeeded) problems.Add($"ip netns delete {id}: {netns.StandardError.Trim()}");
        }
        _live.Clear();
        return problems;
    }

    private async Task<JsonNode?> AddChainAsync(string id, string netnsPath, JsonArray? portMappings, CancellationToken cancellationToken)
    {
        JsonNode? previous = null;
        foreach (var plugin in Plugins(portMappings))
        {
            if (previous is not null) plugin["prevResult"] = previous.DeepClone();
            previous = await InvokeAsync("ADD", id, netnsPath, plugin, cancellationToken);
        }
        return previous;
    }

    private async Task DeleteChainAsync(string id, string netnsPath, JsonArray? portMappings, JsonNode? result, CancellationToken cancellationToken)
    {
        foreach (var plugin in Plugins(portMappings).AsEnumerable().Reverse())
        {
            if (result is not null) plugin["prevResult"] = result.DeepClone();
            await InvokeAsync("DEL", id, netnsPath, plugin, cancellationToken);
        }
    }

    /// <summary>Each plugin's own config as the chain hands it over: the list's name and version, and the runtimeConfig it has the capability for.</summary>
    private List<JsonObject> Plugins(JsonArray? portMappings)
    {
        var list = JsonNode.Parse(conflist)!.AsObject();
        var plugins = new List<JsonObject>();
        foreach (var node in list["plugins"]!.AsArray())
        {
            var plugin = node!.DeepClone().AsObject();
            plugin["name"] = list["name"]!.DeepClone();
            plugin["cniVersion"] = list["cniVersion"]!.DeepClone();
            if (portMappings is not null && plugin["capabilities"]?["portMappings"]?.GetValue<bool>() == true)
                plugin["runtimeConfig"] = new JsonObject { ["portMappings"] = portMappings.DeepClone() };
            plugins.Add(plugin);
        }
        return plugins;
    }

    private async Task<JsonNode?> InvokeAsync(string command, string id, string netnsPath, JsonObject plugin, CancellationToken cancellationToken)
    {
        var type = (string)plugin["type"]!;
        var info = new ProcessStartInfo(Path.Combine(pluginDirectory, type))
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["CNI_COMMAND"] = command;
        info.Environment["CNI_CONTAINERID"] = id;
        info.Environment["CNI_NETNS"] = netnsPath;
        info.Environment["CNI_IFNAME"] = InterfaceName;
        info.Environment["CNI_PATH"] = pluginDirectory;
        info.Environment["CNI_ARGS"] = "IgnoreUnknown=1";
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start CNI plugin {type}");
        ExitCleanup.Track(process);
        try
        {
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.StandardInput.WriteAsync(plugin.ToJsonString().AsMemory(), cancellationToken);
            process.StandardInput.Close();
            await process.WaitForExitAsync(cancellationToken);
            var output = await stdout;
            var error = await stderr;
            if (process.ExitCode != 0)
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                    $"CNI {command} {type} for {id} exited {process.ExitCode}: {output.Trim()} {error.Trim()}"));
            return command == "ADD" ? JsonNode.Parse(output) : null;
        }
        finally
        {
            ExitCleanup.Untrack(process);
        }
    }
}
