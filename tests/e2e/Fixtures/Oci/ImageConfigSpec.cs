namespace Crisp.E2E.Fixtures;

/// <summary>The runtime-relevant part of an OCI image config ("config" object) plus the platform.</summary>
public sealed record ImageConfigSpec
{
    public const string DefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    public OciPlatform Platform { get; init; } = OciPlatform.Host;

    public string? User { get; init; }

    public IReadOnlyList<string> Env { get; init; } = [DefaultPath];

    public string? WorkingDir { get; init; }

    public IReadOnlyList<string>? Entrypoint { get; init; }

    public IReadOnlyList<string>? Cmd { get; init; }

    public IReadOnlyDictionary<string, string>? Labels { get; init; }

    public string? StopSignal { get; init; }

    /// <summary>e.g. "8080/tcp".</summary>
    public IReadOnlyList<string>? ExposedPorts { get; init; }

    /// <summary>e.g. "/data".</summary>
    public IReadOnlyList<string>? Volumes { get; init; }
}
