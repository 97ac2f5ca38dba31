using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Crisp.Server.Config;

/// <summary>Renders --help, --print-default-config and the JSON view of the effective config.</summary>
public static class ConfigDocumentation
{
    public static string Help()
    {
        var defaults = new CrispConfig();
        var sb = new StringBuilder();
        sb.AppendLine("crispd — a Kubernetes CRI v1 container runtime");
        sb.AppendLine();
        sb.AppendLine("Usage: crispd [--config PATH] [--KEY VALUE ...]");
        sb.AppendLine("       crispd check [--config PATH] [--KEY VALUE ...]   check the host's prerequisites; exit 1 when crisp cannot run");
        sb.AppendLine();
        sb.AppendLine($"  --config PATH               TOML config file (default {ConfigLoader.DefaultConfigPath}; absent default file = embedded defaults)");
        sb.AppendLine("  --print-default-config      print the default config as commented TOML and exit");
        sb.AppendLine("  --version                   print the version and exit");
        sb.AppendLine("  --help                      this text");
        sb.AppendLine();
        sb.AppendLine("SIGHUP re-reads the file (live keys: " + string.Join(", ", ConfigSchema.ReloadableKeys) + "; others need a restart),");
        sb.AppendLine("registries.conf with its drop-ins, and the CNI conf dir.");
        sb.AppendLine();
        sb.AppendLine("Every config key can be set with a flag (flags win over the file):");
        foreach (var option in ConfigSchema.Options)
        {
            sb.Append(CultureInfo.InvariantCulture, $"  {option.Flag,-40} {option.Description}");
            sb.AppendLine(CultureInfo.InvariantCulture, $" (default: {FormatFlagValue(option.Get(defaults))})");
        }
        sb.AppendLine($"  {ConfigSchema.HandlerFlag + " NAME=PATH[,ROOT]",-40} add a runtime handler (repeatable; default: runc, and crun when installed)");
        return sb.ToString();
    }

    public static string DefaultToml()
    {
        var defaults = new CrispConfig();
        var sb = new StringBuilder();
        sb.AppendLine("# crispd configuration. Every key is optional; shown values are the embedded defaults.");
        sb.AppendLine("# Each key can also be set with a flag: see `crispd --help`.");
        foreach (var group in ConfigSchema.Options.GroupBy(o => o.Table))
        {
            sb.AppendLine();
            if (group.Key is not null) sb.AppendLine(CultureInfo.InvariantCulture, $"[{group.Key}]");
            foreach (var option in group)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"# {option.Description}");
                sb.AppendLine(CultureInfo.InvariantCulture, $"{option.Key} = {FormatTomlValue(option.Get(defaults))}");
            }
        }
        sb.AppendLine();
        sb.AppendLine("# Runtime handlers, selected by RunPodSandbox's runtime_handler. Without any table,");
        sb.AppendLine("# crisp configures runc and, when installed, crun, each rooted under state_dir.");
        sb.AppendLine("# [runtime.handlers.runc]");
        sb.AppendLine("# path = \"runc\"");
        sb.AppendLine("# root = \"/run/crisp/runc\"");
        return sb.ToString();
    }

    /// <summary>The effective config as JSON (Status verbose info, `crictl info`).</summary>
    public static string ToJson(CrispConfig config)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            if (config.SourceFile is not null) writer.WriteString("configFile", config.SourceFile);
            foreach (var group in ConfigSchema.Options.GroupBy(o => o.Table))
            {
                if (group.Key is not null) writer.WriteStartObject(group.Key);
                foreach (var option in group) WriteJsonValue(writer, option.Key, option.Get(config));
                if (group.Key == "runtime")
                {
                    writer.WriteStartObject("handlers");
                    foreach (var h in config.RuntimeHandlers)
                    {
                        writer.WriteStartObject(h.Name);
                        writer.WriteString("path", h.Path);
                        writer.WriteString("root", h.Root);
                        writer.WriteEndObject();
                    }
                    writer.WriteEndObject();
                }
                if (group.Key is not null) writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteJsonValue(Utf8JsonWriter writer, string name, object value)
    {
        switch (value)
        {
            case string s: writer.WriteString(name, s); break;
            case long l: writer.WriteNumber(name, l); break;
            case bool b: writer.WriteBoolean(name, b); break;
            case List<string> list:
                writer.WriteStartArray(name);
                foreach (var item in list) writer.WriteStringValue(item);
                writer.WriteEndArray();
                break;
        }
    }

    private static string FormatTomlValue(object value) => value switch
    {
        string s => Quote(s),
        long l => l.ToString(CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        List<string> list => "[" + string.Join(", ", list.Select(Quote)) + "]",
        _ => value.ToString() ?? "",
    };

    internal static string FormatFlagValue(object value) => value switch
    {
        string s => s.Length == 0 ? "\"\"" : s,
        List<string> list => string.Join(",", list),
        _ => FormatTomlValue(value),
    };

    private static string Quote(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
