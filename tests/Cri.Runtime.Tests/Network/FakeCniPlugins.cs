using System.Text.Json.Nodes;

namespace Crisp.Runtime.Tests.Network;

/// <summary>
/// A CNI plugin dir of small /bin/sh scripts that record every call (stdin and environment, in call order) and
/// answer with what the test put in their control files; nothing touches the host's network.
/// </summary>
internal sealed class FakeCniPlugins : IDisposable
{
    public sealed record Call(string Type, string Command, JsonObject Stdin, IReadOnlyDictionary<string, string> Env);

    public string Root { get; } = Directory.CreateTempSubdirectory("crisp-cni-fake-").FullName;
    public string BinDir => Path.Combine(Root, "bin");
    public string ConfDir => Path.Combine(Root, "net.d");
    public string CacheDir => Path.Combine(Root, "cache");
    public string PodCidrFile => Path.Combine(Root, "pod-cidr");
    private string LogDir => Path.Combine(Root, "log");
    private string ControlDir => Path.Combine(Root, "ctl");

    public FakeCniPlugins()
    {
        Directory.CreateDirectory(BinDir);
        Directory.CreateDirectory(ConfDir);
        Directory.CreateDirectory(LogDir);
        Directory.CreateDirectory(ControlDir);
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);

    /// <summary>A plugin that prints <paramref name="addResult"/> on ADD (nothing when null) and nothing on DEL.</summary>
    public void Plugin(string type, string? addResult = null)
    {
        var script = $$"""
            #!/bin/sh
            log='{{LogDir}}'
            ctl='{{ControlDir}}/{{type}}'
            n=$(ls "$log" | wc -l)
            d="$log/$(printf %04d "$n")"
            mkdir "$d"
            echo '{{type}}' > "$d/type"
            cat > "$d/stdin"
            env > "$d/env"
            if [ -f "$ctl.$CNI_COMMAND.sleep" ]; then exec sleep "$(cat "$ctl.$CNI_COMMAND.sleep")"; fi
            if [ -f "$ctl.$CNI_COMMAND.stderr" ]; then cat "$ctl.$CNI_COMMAND.stderr" >&2; exit 3; fi
            if [ -f "$ctl.$CNI_COMMAND.error" ]; then cat "$ctl.$CNI_COMMAND.error"; exit 1; fi
            if [ -f "$ctl.$CNI_COMMAND.stdout" ]; then cat "$ctl.$CNI_COMMAND.stdout"; fi
            exit 0
            """;
        var path = Path.Combine(BinDir, type);
        File.WriteAllText(path, script.Replace("\r", "") + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (addResult is not null) File.WriteAllText(Path.Combine(ControlDir, $"{type}.ADD.stdout"), addResult);
    }

    /// <summary>Makes the plugin print a CNI error object on stdout and exit 1 for that command.</summary>
    public void FailWithCniError(string type, string command, string errorJson) =>
        File.WriteAllText(Path.Combine(ControlDir, $"{type}.{command}.error"), errorJson);

    /// <summary>Makes the plugin write text to stderr and exit 3 for that command.</summary>
    public void FailWithStderr(string type, string command, string text) =>
        File.WriteAllText(Path.Combine(ControlDir, $"{type}.{command}.stderr"), text);

    public void Stdout(string type, string command, string text) =>
        File.WriteAllText(Path.Combine(ControlDir, $"{type}.{command}.stdout"), text);

    /// <summary>Makes the plugin hang (it becomes a sleep of that many seconds) for that command.</summary>
    public void Hang(string type, string command, int seconds) =>
        File.WriteAllText(Path.Combine(ControlDir, $"{type}.{command}.sleep"), seconds.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public void Heal(string type, string command)
    {
        File.Delete(Path.Combine(ControlDir, $"{type}.{command}.error"));
        File.Delete(Path.Combine(ControlDir, $"{type}.{command}.stderr"));
    }

    public void WriteConfig(string fileName, string json) => File.WriteAllText(Path.Combine(ConfDir, fileName), json);

    public IReadOnlyList<Call> Calls()
    {
        var calls = new List<Call>();
        foreach (var dir in Directory.EnumerateDirectories(LogDir).Order(StringComparer.Ordinal))
        {
            var env = new Dictionary<string, string>();
            foreach (var line in File.ReadAllLines(Path.Combine(dir, "env")))
            {
                var eq = line.IndexOf('=');
                if (eq > 0) env[line[..eq]] = line[(eq + 1)..];
            }
            var stdin = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "stdin")))!.AsObject();
            calls.Add(new Call(File.ReadAllText(Path.Combine(dir, "type")).Trim(), env.GetValueOrDefault("CNI_COMMAND", "?"), stdin, env));
        }
        return calls;
    }

    public IReadOnlyList<string> CallSummary() => Calls().Select(c => $"{c.Command} {c.Type}").ToList();

    public void ClearCalls()
    {
        foreach (var dir in Directory.EnumerateDirectories(LogDir)) Directory.Delete(dir, recursive: true);
    }
}
