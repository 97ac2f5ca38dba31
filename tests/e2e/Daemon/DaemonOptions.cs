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

    /// <summary>CNI config dir; null uses an empty temp dir (NetworkReady false).</summary>
    public string? CniConfDir { get; init; }

    /// <summary>Socket to serve on; null uses state/crisp.sock under the fixture's directory.</summary>
    public string? SocketPath { get; init; }

    /// <summary>Wait for Version to answer before returning from start.</summary>
    public bool WaitUntilServing { get; init; } = true;
}
