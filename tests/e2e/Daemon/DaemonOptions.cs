namespace Crisp.E2E.Daemon;

/// <summary>How a test wants its crispd: extra TOML, flags, registries.conf content, CNI dir.</summary>
public sealed class DaemonOptions
{
    /// <summary>Appended verbatim to the generated crisp.toml (may add tables).</summary>
    public string ExtraToml { get; init; } = "";

    /// <summary>Extra command-line flags, e.g. ["--image-max-concurrent-downloads", "2"].</summary>
    public IReadOnlyList<string> Flags { get; init; } = [];

    /// <summary>registries.conf v2 content; null writes an empty file (no per-registry settings).</summary>
    public string? RegistriesConf { get; init; }

    /// <summary>CNI config dir; null uses a temp dir holding <see cref="CniConfig"/>.</summary>
    public string? CniConfDir { get; init; }

    /// <summary>
    /// conflist written as 00-e2e.conflist into the temp CNI dir (ignored when <see cref="CniConfDir"/> is given);
    /// null leaves the dir empty (NetworkReady false, pod-network sandboxes refused). The default gives pods a
    /// network namespace with loopback only: fast, and nothing on the host changes.
    /// </summary>
    public string? CniConfig { get; init; } = LoopbackOnlyCniConfig;

    public const string LoopbackOnlyCniConfig = """{"cniVersion":"1.0.0","name":"e2e-loopback","plugins":[{"type":"loopback"}]}""";

    /// <summary>Socket to serve on; null uses state/crisp.sock under the fixture's directory.</summary>
    public string? SocketPath { get; init; }

    /// <summary>Extra environment variables for crispd (e.g. NOTIFY_SOCKET).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// The command line to start instead of the built crispd with the fixture's crisp.toml, e.g. an installed unit's
    /// ExecStart; <see cref="SocketPath"/> must then name the socket its config serves on.
    /// </summary>
    public IReadOnlyList<string>? CommandLine { get; init; }

    /// <summary>Wait for Version to answer before returning from start.</summary>
    public bool WaitUntilServing { get; init; } = true;
}
