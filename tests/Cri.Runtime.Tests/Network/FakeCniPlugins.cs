using System.Text.Json.Nodes;

namespace Crisp.Runtime.Tests.Network;

/// <summary>
/// A CNI plugin dir of small /bin/sh scripts that record every call (stdin and environment, in call order) and
/// answer with what the test put in their control files; nothing touches the host's network.
/// </summary>
internal sealed class FakeCniPlugins : IDisposable
{
    public const string Collection = "CNI plugin processes";

    public sealed record Call(string Type, string Command, JsonObject Stdin, IReadOnlyDictionary<string, string> Env);

    public string Root { get; } = Directory.CreateTempSubdirectory("crisp-cni-fake-").FullName;
    public string BinDir => Path.Combine(Root, "bin");
    public string ConfDir => Path.Combine(Root, "net.d");
    public string CacheDir => Path.Combine(Root, "cache");
    public string PodCidrFile => Path.Combine(Root, "pod-cidr");
    private string LogFile => Path.Combine(Root, "calls.log");
    private string ControlDir => Path.Combine(Root, "ctl");

    public FakeCniPlugins()
    {
        Directory.CreateDirectory(BinDir);
        Directory.CreateDirectory(ConfDir);
        Directory.CreateDirectory(ControlDir);
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);

    /// <summary>A plugin that prints <paramref name="addResult"/> on ADD (nothing when null) and nothing on DEL.</summary>
    public void Plugin(string type, string? addResult = null)
    {
        // One append per call, few processes: the suite shares two cores with timing-sensitive tests.
        var script = $$"""
            #!/bin/sh
            ctl='{{ControlDir}}/{{type}}'
            { echo '@@CALL {{type}}'; env; echo '@@STDIN'; cat; echo; echo '@@END'; } >> '{{LogFile}}'
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
        if (!File.Exists(LogFile)) return calls;
        string? type = null;
        Dictionary<string, string> env = [];
        System.Text.StringBuilder? stdin = null;
        foreach (var line in File.ReadLines(LogFile))
        {
            if (line.StartsWith("@@CALL ", StringComparison.Ordinal))
            {
                type = line["@@CALL ".Length..];
                env = [];
                stdin = null;
            }
            else if (line == "@@STDIN") stdin = new System.Text.StringBuilder();
            else if (line == "@@END")
            {
                var json = JsonNode.Parse(stdin!.ToString())!.AsObject();
                calls.Add(new Call(type!, env.GetValueOrDefault("CNI_COMMAND", "?"), json, env));
            }
            else if (stdin is not null) stdin.AppendLine(line);
            else if (line.IndexOf('=') is var eq and > 0) env[line[..eq]] = line[(eq + 1)..];
        }
        return calls;
    }

    public IReadOnlyList<string> CallSummary() => Calls().Select(c => $"{c.Command} {c.Type}").ToList();

    public void ClearCalls() => File.Delete(LogFile);
}
