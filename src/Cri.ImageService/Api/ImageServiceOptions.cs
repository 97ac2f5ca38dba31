namespace Crisp.ImageService.Api;

/// <summary>Settings the daemon hands to the image service (mapped from crisp.toml).</summary>
public sealed class ImageServiceOptions
{
    /// <summary>Root of all image state: content/, snapshots/, metadata.db.</summary>
    public string Root { get; set; } = "/var/lib/crisp/images";

    /// <summary>containers-registries.conf v2 file; absent file means "no per-registry settings".</summary>
    public string RegistriesConfPath { get; set; } = "/etc/containers/registries.conf";

    /// <summary>Drop-in directory read after <see cref="RegistriesConfPath"/>, in lexical order.</summary>
    public string RegistriesConfDir { get; set; } = "/etc/containers/registries.conf.d";

    /// <summary>How many layers of one pull download at the same time.</summary>
    public int MaxConcurrentDownloads { get; set; } = 4;

    /// <summary>A pull whose download makes no progress for this long is cancelled (DeadlineExceeded).</summary>
    public TimeSpan PullProgressTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The node platform used to pick an entry from an index/manifest list.</summary>
    public string PlatformOs { get; set; } = "linux";
    public string PlatformArchitecture { get; set; } = "amd64";
    public string? PlatformVariant { get; set; }

    /// <summary>Image references (canonical names) never removed by RemoveImage.</summary>
    public IReadOnlyList<string> PinnedImages { get; set; } = [];
}
