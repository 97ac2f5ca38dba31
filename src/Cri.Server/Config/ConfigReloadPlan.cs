namespace Crisp.Server.Config;

/// <summary>One key whose value differs between the running config and the re-read file.</summary>
public sealed record ConfigChange(string Key, string From, string To);

/// <summary>
/// What a re-read crisp.toml changes in a running crispd: the config that is in effect afterwards (the running
/// one with only <see cref="ConfigSchema.ReloadableKeys"/> taken from the new file), the live changes applied,
/// and the changes that wait for a restart.
/// </summary>
public sealed record ConfigReloadPlan(CrispConfig Effective, IReadOnlyList<ConfigChange> Applied, IReadOnlyList<ConfigChange> NeedRestart)
{
    private const string HandlersKey = "runtime.handlers";

    public static ConfigReloadPlan Create(CrispConfig running, CrispConfig reread)
    {
        var effective = Copy(running);
        effective.SourceFile = reread.SourceFile;
        var applied = new List<ConfigChange>();
        var needRestart = new List<ConfigChange>();
        foreach (var option in ConfigSchema.Options)
        {
            var from = ConfigDocumentation.FormatFlagValue(option.Get(running));
            var to = ConfigDocumentation.FormatFlagValue(option.Get(reread));
            if (from == to) continue;
            var change = new ConfigChange(option.Path, from, to);
            if (ConfigSchema.ReloadableKeys.Contains(option.Path))
            {
                option.Set(effective, option.Get(reread));
                applied.Add(change);
            }
            else
            {
                needRestart.Add(change);
            }
        }
        var handlersFrom = DescribeHandlers(running);
        var handlersTo = DescribeHandlers(reread);
        if (handlersFrom != handlersTo) needRestart.Add(new ConfigChange(HandlersKey, handlersFrom, handlersTo));
        return new ConfigReloadPlan(effective, applied, needRestart);
    }

    /// <summary><paramref name="effective"/> with the running values of <paramref name="keys"/> put back, for live keys whose new values failed to apply.</summary>
    public static CrispConfig Restore(CrispConfig effective, CrispConfig running, IEnumerable<string> keys)
    {
        var reverted = Copy(effective);
        foreach (var key in keys)
        {
            var option = ConfigSchema.Options.First(o => o.Path == key);
            option.Set(reverted, option.Get(running));
        }
        return reverted;
    }

    private static CrispConfig Copy(CrispConfig source)
    {
        var copy = new CrispConfig { SourceFile = source.SourceFile };
        foreach (var option in ConfigSchema.Options)
        {
            var value = option.Get(source);
            option.Set(copy, value is List<string> list ? new List<string>(list) : value);
        }
        copy.RuntimeHandlers = [.. source.RuntimeHandlers];
        return copy;
    }

    private static string DescribeHandlers(CrispConfig config) =>
        string.Join(",", config.RuntimeHandlers.OrderBy(h => h.Name, StringComparer.Ordinal).Select(h => $"{h.Name}={h.Path}:{h.Root}"));
}
