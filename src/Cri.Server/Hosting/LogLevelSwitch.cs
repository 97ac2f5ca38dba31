namespace Crisp.Server.Hosting;

/// <summary>
/// The console log level, changeable while crispd runs (log_level is re-read on SIGHUP). The logging filter reads
/// it on every call, so a change applies to loggers that already exist.
/// </summary>
public sealed class LogLevelSwitch(LogLevel initial)
{
    private volatile int _minimum = (int)initial;

    public LogLevel Minimum
    {
        get => (LogLevel)_minimum;
        set => _minimum = (int)value;
    }

    public bool IsEnabled(LogLevel level) => level != LogLevel.None && level >= Minimum;

    /// <summary>The log_level names crisp.toml accepts (ConfigSchema validates them).</summary>
    public static LogLevel Parse(string level) => level switch
    {
        "trace" => LogLevel.Trace,
        "debug" => LogLevel.Debug,
        "warn" => LogLevel.Warning,
        "error" => LogLevel.Error,
        _ => LogLevel.Information,
    };
}
