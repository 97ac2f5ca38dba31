using System.Globalization;

namespace Crisp.Server.Config;

/// <summary>The TOML/flag value shapes crisp accepts.</summary>
public enum ConfigValueKind { String, Integer, Boolean, StringList }

/// <summary>
/// One settable key: its TOML table and name, the flag derived from them, its default,
/// a description for --help and the default config, and how to validate and apply it.
/// </summary>
public sealed record ConfigOption(
    string? Table,
    string Key,
    ConfigValueKind Kind,
    string Description,
    Func<CrispConfig, object> Get,
    Action<CrispConfig, object> Set,
    Func<object, string?>? Validate = null)
{
    public string Path => Table is null ? Key : $"{Table}.{Key}";
    public string Flag => "--" + Path.Replace('.', '-').Replace('_', '-');
}

/// <summary>Every key of crisp.toml, declared once: parsing, flags, --help and the default config all come from here.</summary>
public static class ConfigSchema
{
    private static readonly string[] LogLevels = ["trace", "debug", "info", "warn", "error"];
    private static readonly string[] CgroupDrivers = ["cgroupfs", "systemd"];

    public static readonly IReadOnlyList<ConfigOption> Options =
    [
        Str(null, "root", "Persistent state: images, containers, metadata databases.", c => c.Root, (c, v) => c.Root = v, AbsolutePath),
        Str(null, "state_dir", "Volatile state (tmpfs): bundles, exit files, pinned namespaces.", c => c.StateDir, (c, v) => c.StateDir = v, AbsolutePath),
        Str(null, "log_level", "Console log level: trace, debug, info, warn, error.", c => c.LogLevel, (c, v) => c.LogLevel = v, OneOf(LogLevels)),

        Str("grpc", "socket", "Unix socket the CRI gRPC server listens on.", c => c.GrpcSocket, (c, v) => c.GrpcSocket = v, AbsolutePath),
        Int("grpc", "max_message_bytes", "Largest gRPC message accepted or sent, both ways.", c => c.GrpcMaxMessageBytes, (c, v) => c.GrpcMaxMessageBytes = v, Range(4096, 1L << 30)),
        Int("grpc", "shutdown_timeout_seconds", "On SIGTERM/SIGINT, how long in-flight calls may finish.", c => c.GrpcShutdownTimeoutSeconds, (c, v) => c.GrpcShutdownTimeoutSeconds = v, Range(0, 3600)),

        Str("runtime", "default_handler", "Runtime handler used when RunPodSandbox names none.", c => c.RuntimeDefaultHandler, (c, v) => c.RuntimeDefaultHandler = v, NonEmpty),
        Str("runtime", "cgroup_driver", "cgroupfs or systemd.", c => c.RuntimeCgroupDriver, (c, v) => c.RuntimeCgroupDriver = v, OneOf(CgroupDrivers)),
        Str("runtime", "conmon_path", "conmon binary (name looked up on PATH, or absolute path).", c => c.RuntimeConmonPath, (c, v) => c.RuntimeConmonPath = v, NonEmpty),
        Bool("runtime", "enable_cdi", "Give containers the CDI devices they request (CDI_devices field, cdi.k8s.io/* annotations).", c => c.RuntimeEnableCdi, (c, v) => c.RuntimeEnableCdi = v),
        List("runtime", "cdi_spec_dirs", "CDI spec directories (.json, .yaml), lowest priority first; re-read when their files change.", c => c.RuntimeCdiSpecDirs, (c, v) => c.RuntimeCdiSpecDirs = v, AllAbsolute),
        List("runtime", "allowed_annotations", "Prefixes of container annotations the OCI runtime interprets (run.oci.*, org.systemd.property.*) that may reach config.json; others with those prefixes are dropped.", c => c.RuntimeAllowedAnnotations, (c, v) => c.RuntimeAllowedAnnotations = v, NoneEmpty),

        Str("image", "registries_conf", "containers-registries.conf v2 file (shared with skopeo, podman, CRI-O).", c => c.ImageRegistriesConf, (c, v) => c.ImageRegistriesConf = v, AbsolutePath),
        Str("image", "registries_conf_dir", "Drop-in directory of registries.conf files, read in lexical order.", c => c.ImageRegistriesConfDir, (c, v) => c.ImageRegistriesConfDir = v, AbsolutePath),
        Int("image", "max_concurrent_downloads", "Layers of one pull downloaded in parallel.", c => c.ImageMaxConcurrentDownloads, (c, v) => c.ImageMaxConcurrentDownloads = v, Range(1, 64)),
        Int("image", "pull_progress_timeout_seconds", "Cancel a pull whose download makes no progress for this long.", c => c.ImagePullProgressTimeoutSeconds, (c, v) => c.ImagePullProgressTimeoutSeconds = v, Range(1, 86400)),
        List("image", "pinned_images", "Images RemoveImage never removes.", c => c.ImagePinnedImages, (c, v) => c.ImagePinnedImages = v, null),

        Str("network", "cni_conf_dir", "Directory holding CNI .conflist/.conf files.", c => c.NetworkCniConfDir, (c, v) => c.NetworkCniConfDir = v, AbsolutePath),
        List("network", "cni_bin_dirs", "Directories searched for CNI plugin binaries.", c => c.NetworkCniBinDirs, (c, v) => c.NetworkCniBinDirs = v, AllAbsolute),
        Bool("network", "write_default_cni_config", "Write a bridge network config when cni_conf_dir has none.", c => c.NetworkWriteDefaultCniConfig, (c, v) => c.NetworkWriteDefaultCniConfig = v),

        Str("streaming", "address", "host:port of the Exec/Attach/PortForward streaming server (port 0: any free port).", c => c.StreamingAddress, (c, v) => c.StreamingAddress = v, HostPort),

        Str("metrics", "prometheus_address", "host:port of the Prometheus endpoint (/metrics); empty disables it.", c => c.MetricsPrometheusAddress, (c, v) => c.MetricsPrometheusAddress = v, LoopbackOrEmpty),
        Str("tracing", "otlp_endpoint", "OTLP endpoint (http://host:4317) for traces and metrics; empty disables export.", c => c.TracingOtlpEndpoint, (c, v) => c.TracingOtlpEndpoint = v, UriOrEmpty),
    ];

    /// <summary>
    /// Keys a running crispd takes from crisp.toml on SIGHUP. Every other key is read once at start (it shapes
    /// listeners, directories or services built then), so a changed value is logged as needing a restart.
    /// </summary>
    public static readonly IReadOnlySet<string> ReloadableKeys = new HashSet<string>(StringComparer.Ordinal)
    {
        "log_level",
        "image.registries_conf",
        "image.registries_conf_dir",
        "image.max_concurrent_downloads",
        "image.pull_progress_timeout_seconds",
    };

    /// <summary>The one table whose sub-tables are open-ended: [runtime.handlers.NAME] with path and root.</summary>
    public const string HandlersTable = "runtime.handlers";
    public const string HandlerFlag = "--runtime-handler";

    public static ConfigOption? Find(string? table, string key) =>
        Options.FirstOrDefault(o => o.Table == table && o.Key == key);

    private static ConfigOption Str(string? t, string k, string d, Func<CrispConfig, string> g, Action<CrispConfig, string> s, Func<string, string?>? v) =>
        new(t, k, ConfigValueKind.String, d, c => g(c), (c, o) => s(c, (string)o), v is null ? null : o => v((string)o));

    private static ConfigOption Int(string? t, string k, string d, Func<CrispConfig, long> g, Action<CrispConfig, long> s, Func<long, string?>? v) =>
        new(t, k, ConfigValueKind.Integer, d, c => g(c), (c, o) => s(c, (long)o), v is null ? null : o => v((long)o));

    private static ConfigOption Bool(string? t, string k, string d, Func<CrispConfig, bool> g, Action<CrispConfig, bool> s) =>
        new(t, k, ConfigValueKind.Boolean, d, c => g(c), (c, o) => s(c, (bool)o));

    private static ConfigOption List(string? t, string k, string d, Func<CrispConfig, List<string>> g, Action<CrispConfig, List<string>> s, Func<List<string>, string?>? v) =>
        new(t, k, ConfigValueKind.StringList, d, c => g(c), (c, o) => s(c, (List<string>)o), v is null ? null : o => v((List<string>)o));

    private static string? AbsolutePath(string value) =>
        value.StartsWith('/') ? null : $"must be an absolute path, got \"{value}\"";

    private static string? AllAbsolute(List<string> values) =>
        values.Select(AbsolutePath).FirstOrDefault(e => e is not null);

    private static string? NonEmpty(string value) => value.Length > 0 ? null : "must not be empty";

    private static string? NoneEmpty(List<string> values) =>
        values.Any(v => v.Length == 0) ? "must not contain an empty prefix" : null;

    private static Func<string, string?> OneOf(string[] allowed) => value =>
        allowed.Contains(value) ? null : $"must be one of {string.Join(", ", allowed)}, got \"{value}\"";

    private static Func<long, string?> Range(long min, long max) => value =>
        value >= min && value <= max ? null
            : $"must be between {min.ToString(CultureInfo.InvariantCulture)} and {max.ToString(CultureInfo.InvariantCulture)}, got {value.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>ip:port ([v6]:port); a name would need resolving, and Kestrel cannot bind "localhost" to port 0.</summary>
    private static string? HostPort(string value)
    {
        var colon = value.LastIndexOf(':');
        if (colon <= 0 || !System.Net.IPAddress.TryParse(value[..colon].Trim('[', ']'), out _)
            || !int.TryParse(value.AsSpan(colon + 1), CultureInfo.InvariantCulture, out var port) || port is < 0 or > 65535)
            return $"must be ip:port (e.g. 127.0.0.1:0), got \"{value}\"";
        return null;
    }

    private static string? LoopbackOrEmpty(string value)
    {
        if (value.Length == 0) return null;
        var colon = value.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(value.AsSpan(colon + 1), CultureInfo.InvariantCulture, out var port) || port is < 0 or > 65535)
            return $"must be host:port, got \"{value}\"";
        return null;
    }

    private static string? UriOrEmpty(string value) =>
        value.Length == 0 || Uri.TryCreate(value, UriKind.Absolute, out _) ? null : $"must be an absolute URI, got \"{value}\"";
}
