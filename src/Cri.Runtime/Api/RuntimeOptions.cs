namespace Crisp.Runtime.Api;

/// <summary>One OCI runtime the kubelet can select with runtime_handler.</summary>
public sealed class RuntimeHandlerOptions
{
    public required string Name { get; init; }
    /// <summary>Binary name (looked up on PATH) or absolute path.</summary>
    public required string Path { get; init; }
    /// <summary>The runtime's --root state directory.</summary>
    public required string Root { get; init; }
}

/// <summary>Settings the daemon hands to the runtime library (mapped from crisp.toml).</summary>
public sealed class RuntimeOptions
{
    /// <summary>Persistent state: containers/, sandboxes/, state.db.</summary>
    public string Root { get; set; } = "/var/lib/crisp";
    /// <summary>Volatile state (tmpfs): bundles, exit files, attach sockets, pinned namespaces.</summary>
    public string StateDir { get; set; } = "/run/crisp";
    public string DefaultHandler { get; set; } = "runc";
    public List<RuntimeHandlerOptions> Handlers { get; set; } = [];
    /// <summary>"cgroupfs" or "systemd".</summary>
    public string CgroupDriver { get; set; } = "cgroupfs";
    public string ConmonPath { get; set; } = "conmon";
    /// <summary>Prefixes of runtime-interpreted annotations (run.oci.*, org.systemd.property.*) allowed into config.json.</summary>
    public List<string> AllowedAnnotations { get; set; } = [];
    public string CniConfDir { get; set; } = "/etc/cni/net.d";
    public List<string> CniBinDirs { get; set; } = ["/usr/lib/cni", "/opt/cni/bin"];
    /// <summary>Write a bridge conflist into an empty CniConfDir at start.</summary>
    public bool CniWriteDefaultConfig { get; set; }
    /// <summary>Largest gRPC response the daemon sends (grpc.max_message_bytes); ExecSync output is truncated to fit.</summary>
    public long MaxResponseBytes { get; set; } = 16 * 1024 * 1024;
    /// <summary>Give containers the CDI devices they request (CDI_devices, cdi.k8s.io/* annotations).</summary>
    public bool EnableCdi { get; set; } = true;
    /// <summary>CDI spec directories, lowest priority first (a later directory overrides an earlier one).</summary>
    public List<string> CdiSpecDirs { get; set; } = ["/etc/cdi", "/var/run/cdi"];
}
