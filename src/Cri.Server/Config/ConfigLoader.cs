using System.Globalization;
using Tomlyn;
using Tomlyn.Model;

namespace Crisp.Server.Config;

/// <summary>What the command line asked for besides config overrides.</summary>
public sealed record CommandLine(
    string? ConfigPath,
    bool ShowHelp,
    bool PrintDefaultConfig,
    bool ShowVersion,
    IReadOnlyList<(string Flag, string Value)> Overrides);

/// <summary>
/// Builds the effective <see cref="CrispConfig"/>: embedded defaults, then the TOML file, then flags.
/// Unknown keys and bad values fail with the source (file or flag), the key and the reason.
/// </summary>
public static class ConfigLoader
{
    public const string DefaultConfigPath = "/etc/crisp/crisp.toml";

    public static CommandLine ParseCommandLine(IReadOnlyList<string> args)
    {
        string? configPath = null;
        bool help = false, printDefault = false, version = false;
        var overrides = new List<(string, string)>();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            switch (arg)
            {
                case "--help" or "-h": help = true; continue;
                case "--print-default-config": printDefault = true; continue;
                case "--version": version = true; continue;
            }
            if (!arg.StartsWith("--", StringComparison.Ordinal))
                throw new ConfigException($"unexpected argument \"{arg}\" (see crispd --help)");

            string flag, value;
            var eq = arg.IndexOf('=');
            if (eq > 0)
            {
                (flag, value) = (arg[..eq], arg[(eq + 1)..]);
            }
            else
            {
                flag = arg;
                if (i + 1 >= args.Count) throw new ConfigException($"flag {flag} needs a value");
                value = args[++i];
            }
            if (flag == "--config") configPath = value;
            else overrides.Add((flag, value));
        }
        return new CommandLine(configPath, help, printDefault, version, overrides);
    }

    /// <summary>Loads the file (an explicit path must exist; the default path may be absent) and applies flags.</summary>
    public static CrispConfig Load(CommandLine commandLine)
    {
        var config = new CrispConfig();
        var path = commandLine.ConfigPath ?? DefaultConfigPath;
        if (File.Exists(path))
        {
            ApplyToml(config, File.ReadAllText(path), path);
            config.SourceFile = path;
        }
        else if (commandLine.ConfigPath is not null)
        {
            throw new ConfigException($"config file {path} does not exist");
        }

        foreach (var (flag, value) in commandLine.Overrides)
            ApplyFlag(config, flag, value);

        FinishHandlers(config);
        return config;
    }

    public static void ApplyToml(CrispConfig config, string text, string sourceName)
    {
        TomlTable model;
        try
        {
            model = TomlSerializer.Deserialize(text, ConfigTomlContext.Default.TomlTable)
                    ?? throw new ConfigException($"{sourceName}: empty document");
        }
        catch (TomlException e)
        {
            throw new ConfigException($"{sourceName}: not valid TOML: {e.Message}");
        }
        ApplyTable(config, model, null, sourceName);
    }

    private static void ApplyTable(CrispConfig config, TomlTable table, string? tableName, string source)
    {
        foreach (var (key, value) in table)
        {
            var path = tableName is null ? key : $"{tableName}.{key}";
            if (path == ConfigSchema.HandlersTable)
            {
                ApplyHandlerTables(config, value, source);
                continue;
            }
            if (value is TomlTable nested)
            {
                if (!ConfigSchema.Options.Any(o => o.Table == path) && path != "runtime")
                    throw new ConfigException($"{source}: unknown table [{path}]");
                ApplyTable(config, nested, path, source);
                continue;
            }
            var option = ConfigSchema.Find(tableName, key)
                         ?? throw new ConfigException($"{source}: unknown key \"{path}\"");
            Set(config, option, ConvertTomlValue(option, value, source), source);
        }
    }

    private static void ApplyHandlerTables(CrispConfig config, object value, string source)
    {
        if (value is not TomlTable handlers)
            throw new ConfigException($"{source}: key \"{ConfigSchema.HandlersTable}\" must be a table of [runtime.handlers.NAME] tables");
        foreach (var (name, entry) in handlers)
        {
            var where = $"{ConfigSchema.HandlersTable}.{name}";
            if (entry is not TomlTable fields)
                throw new ConfigException($"{source}: \"{where}\" must be a table with path and root");
            string? path = null, root = null;
            foreach (var (field, fieldValue) in fields)
            {
                if (fieldValue is not string text)
                    throw new ConfigException($"{source}: \"{where}.{field}\" must be a string");
                switch (field)
                {
                    case "path": path = text; break;
                    case "root": root = text; break;
                    default: throw new ConfigException($"{source}: unknown key \"{where}.{field}\" (expected path, root)");
                }
            }
            AddHandler(config, name, path ?? name, root, $"{source}: \"{where}\"");
        }
    }

    private static void ApplyFlag(CrispConfig config, string flag, string value)
    {
        if (flag == ConfigSchema.HandlerFlag)
        {
            // --runtime-handler NAME=PATH[,ROOT]
            var eq = value.IndexOf('=');
            if (eq <= 0) throw new ConfigException($"flag {flag}: expected NAME=PATH[,ROOT], got \"{value}\"");
            var parts = value[(eq + 1)..].Split(',', 2);
            AddHandler(config, value[..eq], parts[0], parts.Length > 1 ? parts[1] : null, $"flag {flag}");
            return;
        }
        var option = ConfigSchema.Options.FirstOrDefault(o => o.Flag == flag)
                     ?? throw new ConfigException($"unknown flag {flag} (see crispd --help)");
        Set(config, option, ConvertFlagValue(option, value), $"flag {flag}");
    }

    private static void AddHandler(CrispConfig config, string name, string path, string? root, string where)
    {
        if (name.Length == 0 || !name.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_' or '.'))
            throw new ConfigException($"{where}: handler name \"{name}\" must be letters, digits, '-', '_' or '.'");
        if (path.Length == 0) throw new ConfigException($"{where}: path must not be empty");
        if (root is not null && !root.StartsWith('/')) throw new ConfigException($"{where}: root must be an absolute path, got \"{root}\"");
        config.RuntimeHandlers.RemoveAll(h => h.Name == name);
        // An empty root is filled in by FinishHandlers once state_dir is final.
        config.RuntimeHandlers.Add(new HandlerConfig(name, path, root ?? ""));
    }

    /// <summary>Defaults when none are configured (runc always, crun when installed) and roots under state_dir.</summary>
    private static void FinishHandlers(CrispConfig config)
    {
        if (config.RuntimeHandlers.Count == 0)
        {
            config.RuntimeHandlers.Add(new HandlerConfig("runc", "runc", ""));
            if (Crisp.Runtime.Handlers.ExecutableLocator.Find("crun") is not null)
                config.RuntimeHandlers.Add(new HandlerConfig("crun", "crun", ""));
        }
        for (var i = 0; i < config.RuntimeHandlers.Count; i++)
        {
            var h = config.RuntimeHandlers[i];
            if (h.Root.Length == 0)
                config.RuntimeHandlers[i] = h with { Root = System.IO.Path.Combine(config.StateDir, h.Name) };
        }
        if (config.RuntimeHandlers.All(h => h.Name != config.RuntimeDefaultHandler))
            throw new ConfigException(
                $"runtime.default_handler: \"{config.RuntimeDefaultHandler}\" is not a configured handler (configured: {string.Join(", ", config.RuntimeHandlers.Select(h => h.Name))})");
    }

    private static void Set(CrispConfig config, ConfigOption option, object value, string source)
    {
        var error = option.Validate?.Invoke(value);
        if (error is not null) throw new ConfigException($"{source}: key \"{option.Path}\" {error}");
        option.Set(config, value);
    }

    private static object ConvertTomlValue(ConfigOption option, object value, string source)
    {
        object? converted = option.Kind switch
        {
            ConfigValueKind.String => value as string,
            ConfigValueKind.Integer => value is long l ? l : null,
            ConfigValueKind.Boolean => value is bool b ? b : null,
            ConfigValueKind.StringList => value is TomlArray a && a.All(x => x is string) ? a.Cast<string>().ToList() : null,
            _ => null,
        };
        return converted ?? throw new ConfigException(
            $"{source}: key \"{option.Path}\" must be {Describe(option.Kind)}, got {DescribeValue(value)}");
    }

    private static object ConvertFlagValue(ConfigOption option, string value)
    {
        switch (option.Kind)
        {
            case ConfigValueKind.String: return value;
            case ConfigValueKind.Integer:
                if (long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l)) return l;
                break;
            case ConfigValueKind.Boolean:
                if (bool.TryParse(value, out var b)) return b;
                break;
            case ConfigValueKind.StringList:
                return value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        }
        throw new ConfigException($"flag {option.Flag}: key \"{option.Path}\" must be {Describe(option.Kind)}, got \"{value}\"");
    }

    private static string Describe(ConfigValueKind kind) => kind switch
    {
        ConfigValueKind.String => "a string",
        ConfigValueKind.Integer => "an integer",
        ConfigValueKind.Boolean => "true or false",
        _ => "a list of strings",
    };

    private static string DescribeValue(object value) => value switch
    {
        string s => $"the string \"{s}\"",
        long l => $"the integer {l.ToString(CultureInfo.InvariantCulture)}",
        bool b => b ? "true" : "false",
        TomlArray => "an array",
        TomlTable => "a table",
        _ => value.GetType().Name,
    };
}
