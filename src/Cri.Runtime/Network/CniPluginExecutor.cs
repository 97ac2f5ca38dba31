using System.Text.Json;
using System.Text.Json.Nodes;
using Crisp.Runtime.Handlers;

namespace Crisp.Runtime.Network;

/// <summary>
/// Runs one CNI plugin binary as the CNI spec defines: the config on stdin, the CNI_* variables in the
/// environment, a result (or an error object) on stdout.
/// </summary>
public sealed class CniPluginExecutor(IReadOnlyList<string> binDirs)
{
    /// <summary>No plugin call may hang a RunPodSandbox forever; the kubelet itself gives up after 4 minutes.</summary>
    private static readonly TimeSpan PluginTimeout = TimeSpan.FromMinutes(2);

    public IReadOnlyList<string> BinDirs => binDirs;

    public string Find(string pluginType, string command)
    {
        // Configs are checked when parsed; this guards every other way a type can arrive (cache, callers).
        if (CniPluginType.Problem(pluginType) is { } problem)
            throw new CniPluginException(pluginType, command, $"plugin type is not a bare binary name: it {problem}");
        return TryFind(pluginType)
            ?? throw new CniPluginException(pluginType, command, $"failed to find plugin \"{pluginType}\" in path [{string.Join(" ", binDirs)}]");
    }

    public bool Exists(string pluginType) => TryFind(pluginType) is not null;

    private string? TryFind(string pluginType)
    {
        if (CniPluginType.Problem(pluginType) is not null) return null;
        foreach (var dir in binDirs)
        {
            var path = Path.Combine(dir, pluginType);
            if (File.Exists(path) && (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0)
                return path;
        }
        return null;
    }

    /// <summary>Runs <paramref name="command"/> (ADD, DEL, CHECK); returns the parsed result, or null when the plugin printed none.</summary>
    public async Task<JsonObject?> ExecAsync(string command, JsonObject pluginConfig, CniInvocation invocation, CancellationToken ct)
    {
        var type = pluginConfig["type"]!.GetValue<string>();
        var path = Find(type, command);
        var environment = new Dictionary<string, string>
        {
            ["CNI_COMMAND"] = command,
            ["CNI_CONTAINERID"] = invocation.ContainerId,
            ["CNI_NETNS"] = invocation.NetnsPath,
            ["CNI_IFNAME"] = invocation.IfName,
            ["CNI_ARGS"] = invocation.Args,
            ["CNI_PATH"] = string.Join(':', binDirs),
        };
        CommandResult result;
        try
        {
            result = await CommandRunner.RunAsync(path, [], ct, stdin: pluginConfig.ToJsonString(), timeout: PluginTimeout, environment: environment)
                .ConfigureAwait(false);
        }
        catch (TimeoutException e)
        {
            throw new CniPluginException(type, command, $"did not finish within {PluginTimeout.TotalSeconds:0}s", e);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new CniPluginException(type, command, $"could not run {path}: {e.Message}", e);
        }

        if (!result.Succeeded)
            throw new CniPluginException(type, command, ErrorMessage(result));
        if (string.IsNullOrWhiteSpace(result.Stdout)) return null;
        try
        {
            return JsonNode.Parse(result.Stdout) as JsonObject
                ?? throw new CniPluginException(type, command, "printed a result that is not a JSON object");
        }
        catch (JsonException e)
        {
            throw new CniPluginException(type, command, $"printed an unparsable result: {e.Message}", e);
        }
    }

    /// <summary>The plugin's own words: the CNI error object's msg (+ details), else whatever it wrote.</summary>
    internal static string ErrorMessage(CommandResult result)
    {
        try
        {
            if (JsonNode.Parse(result.Stdout) is JsonObject error && error["msg"] is JsonValue msg && msg.TryGetValue<string>(out var text))
            {
                var details = error["details"] is JsonValue d && d.TryGetValue<string>(out var dt) && dt.Length > 0 ? $"; {dt}" : "";
                var code = error["code"] is JsonValue c && c.TryGetValue<int>(out var n) ? $" (CNI error code {n})" : "";
                return text + details + code;
            }
        }
        catch (JsonException) { }
        var output = result.ErrorText;
        return output.Length == 0 ? $"exited with {result.ExitCode} and printed nothing" : $"exited with {result.ExitCode}: {output}";
    }
}
