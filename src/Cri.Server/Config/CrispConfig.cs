namespace Crisp.Server.Config;

/// <summary>One configured OCI runtime handler.</summary>
public sealed record HandlerConfig(string Name, string Path, string Root);

/// <summary>
/// The effective daemon configuration: embedded defaults, then the TOML file, then flags.
/// Every settable key is declared once in <see cref="ConfigSchema"/>; this class only holds values.
/// </summary>
public sealed class CrispConfig
{
    public string Root { get; set; } = "/var/lib/crisp";
    public string StateDir { get; set; } = "/run/crisp";
    public string LogLevel { get; set; } = "info";

    public string GrpcSocket { get; set; } = "/run/crisp/crisp.sock";
    public long GrpcMaxMessageBytes { get; set; } = 16 * 1024 * 1024;
    public long GrpcShutdownTimeoutSeconds { get; set; } = 10;

    public string RuntimeDefaultHandler { get; set; } = "runc";
    public string RuntimeCgroupDriver { get; set; } = "cgroupfs";
    public string RuntimeConmonPath { get; set; } = "conmon";
    public List<string> RuntimeAllowedAnnotations { get; set; } = [];
    public bool RuntimeEnableCdi { get; set; } = true;
    public List<string> RuntimeCdiSpecDirs { get; set; } = ["/etc/cdi", "/var/run/cdi"];
    /// <summary>Handlers from [runtime.handlers.NAME] tables and --runtime-handler flags; empty means "runc, plus crun when installed".</summary>
    public List<HandlerConfig> RuntimeHandlers { get; set; } = [];

    public string ImageRegistriesConf { get; set; } = "/etc/containers/registries.conf";
    public string ImageRegistriesConfDir { get; set; } = "/etc/containers/registries.conf.d";
    public long ImageMaxConcurrentDownloads { get; set; } = 4;
    public long ImagePullProgressTimeoutSeconds { get; set; } = 60;
    public List<string> ImagePinnedImages { get; set; } = [];

    public string NetworkCniConfDir { get; set; } = "/etc/cni/net.d";
    public List<string> NetworkCniBinDirs { get; set; } = ["/usr/lib/cni", "/opt/cni/bin"];
    public bool NetworkWriteDefaultCniConfig { get; set; }

    /// <summary>The kubelet proxies streams to this address (containerd's default too: loopback, any free port).</summary>
    public string StreamingAddress { get; set; } = "127.0.0.1:0";
    public string MetricsPrometheusAddress { get; set; } = "127.0.0.1:9537";
    public string TracingOtlpEndpoint { get; set; } = "";

    /// <summary>Where the values came from, for `crictl info` and logs.</summary>
    public string? SourceFile { get; set; }
}
