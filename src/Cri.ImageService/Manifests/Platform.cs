namespace Crisp.ImageService.Manifests;

/// <summary>An OS/architecture/variant triple as an index entry or a node describes it.</summary>
public sealed record Platform(string Os, string Architecture, string? Variant = null)
{
    /// <summary>
    /// The canonical spelling: GOARCH names ("x86_64" → "amd64", "aarch64" → "arm64") and the
    /// implied variant made explicit (arm64 → v8, arm → v7, amd64 → v1), so that two platforms
    /// that mean the same thing compare equal.
    /// </summary>
    public Platform Normalize()
    {
        string os = Os.ToLowerInvariant();
        string architecture = Architecture.ToLowerInvariant();
        string? variant = string.IsNullOrEmpty(Variant) ? null : Variant.ToLowerInvariant();
        switch (architecture)
        {
            case "x86_64" or "x86-64" or "amd64":
                architecture = "amd64";
                variant ??= "v1";
                break;
            case "aarch64" or "arm64":
                architecture = "arm64";
                variant = variant is null or "8" or "v8" ? "v8" : variant;
                break;
            case "armhf":
                architecture = "arm";
                variant ??= "v7";
                break;
            case "armel":
                architecture = "arm";
                variant ??= "v6";
                break;
            case "arm":
                variant = variant switch
                {
                    null or "7" => "v7",
                    "5" or "6" or "8" => "v" + variant,
                    _ => variant,
                };
                break;
            case "i386" or "i686" or "x86":
                architecture = "386";
                break;
        }
        return new Platform(os, architecture, variant);
    }

    public override string ToString() =>
        string.IsNullOrEmpty(Variant) ? $"{Os}/{Architecture}" : $"{Os}/{Architecture}/{Variant}";
}
