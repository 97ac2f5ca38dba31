using System.Text.Json.Nodes;

namespace Crisp.E2E.Network;

/// <summary>
/// Shell-script CNI plugins in a private bin dir. Every call is appended to <see cref="LogPath"/> as
/// "TYPE COMMAND NETWORK CONTAINERID" (the network name as read from the config on stdin), so a test
/// can see which config a DEL was given; each call's stdin and CNI_* environment are kept too (<see cref="StdinOf"/>,
/// <see cref="EnvironmentOf"/>). DEL, CHECK and the rest succeed; ADD does what the test asks.
/// </summary>
public sealed class ScriptPlugins
{
    public ScriptPlugins(string binDir)
    {
        BinDir = binDir;
        Directory.CreateDirectory(binDir);
    }

    public string BinDir { get; }
    public string LogPath => Path.Combine(BinDir, "calls.log");

    /// <summary>crispd flags that search this dir first, then the real plugins.</summary>
    public IReadOnlyList<string> DaemonFlags => ["--network-cni-bin-dirs", $"{BinDir},/usr/lib/cni"];

    public IReadOnlyList<string> Calls => File.Exists(LogPath) ? File.ReadAllLines(LogPath) : [];

    /// <summary>The config the plugin read on stdin for that call (the last one, if it was called twice).</summary>
    public JsonObject StdinOf(string type, string command, string containerId) =>
        JsonNode.Parse(File.ReadAllText(CallFile(type, command, containerId, "stdin.json"))) as JsonObject
        ?? throw new InvalidDataException($"{type} {command} for {containerId} did not get a JSON object on stdin");

    /// <summary>CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_ARGS and CNI_PATH of that call.</summary>
    public IReadOnlyDictionary<string, string> EnvironmentOf(string type, string command, string containerId) =>
        File.ReadAllLines(CallFile(type, command, containerId, "env"))
            .Select(l => l.Split('=', 2))
            .ToDictionary(kv => kv[0], kv => kv.Length > 1 ? kv[1] : "", StringComparer.Ordinal);

    private string CallFile(string type, string command, string containerId, string what) =>
        Path.Combine(BinDir, $"{type}.{command}.{containerId}.{what}");

    /// <summary>A chained plugin that changes nothing: its ADD result is the previous plugin's.</summary>
    public string WritePassThrough(string type) => Write(type, """printf '%s' "$input" | jq -c '.prevResult'""");

    /// <summary>ADD fails the CNI way: an error JSON on stdout and exit 1.</summary>
    public string WriteRefusing(string type, string message) =>
        Write(type, $$"""echo '{"cniVersion":"1.0.0","code":7,"msg":"{{message}}"}'; exit 1""");

    /// <summary>ADD writes its pid to <paramref name="marker"/> and then hangs in that very process (exec sleep).</summary>
    public string WriteHanging(string type, string marker) =>
        Write(type, $"echo $$ > '{marker}.tmp' && mv '{marker}.tmp' '{marker}'; exec sleep 60");

    private string Write(string type, string addBody)
    {
        var path = Path.Combine(BinDir, type);
        var script = $$"""
            #!/bin/sh
            # crisp e2e CNI plugin {{type}}
            input=$(cat)
            name=$(printf '%s' "$input" | jq -r '.name // empty' 2>/dev/null)
            echo "{{type}} $CNI_COMMAND $name $CNI_CONTAINERID" >> '{{LogPath}}'
            call='{{BinDir}}/{{type}}'."$CNI_COMMAND.$CNI_CONTAINERID"
            printf '%s' "$input" > "$call.stdin.json"
            env | grep '^CNI_' > "$call.env"
            case "$CNI_COMMAND" in
            ADD)
                {{addBody}}
                ;;
            VERSION)
                echo '{"cniVersion":"1.0.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0"]}'
                ;;
            esac
            exit 0

            """;
        var temp = path + ".tmp";
        File.WriteAllText(temp, script);
        File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                                   | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        File.Move(temp, path, overwrite: true);
        return type;
    }
}
