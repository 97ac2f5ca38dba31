using System.Runtime.InteropServices;

namespace Crisp.E2E.Fixtures;

public sealed record OciPlatform(string Os, string Architecture, string? Variant = null)
{
    /// <summary>The platform of this machine in OCI spelling (linux/amd64 on the project's machines).</summary>
    public static OciPlatform Host { get; } = new("linux", GoArchitecture(RuntimeInformation.OSArchitecture));

    /// <summary>A platform that is not this machine's, for "wrong platform" and multi-platform images.</summary>
    public static OciPlatform Foreign { get; } = Host.Architecture == "arm64" ? new("linux", "amd64") : new("linux", "arm64", "v8");

    public override string ToString() => Variant is null ? $"{Os}/{Architecture}" : $"{Os}/{Architecture}/{Variant}";

    private static string GoArchitecture(Architecture architecture) => architecture switch
    {
        System.Runtime.InteropServices.Architecture.X64 => "amd64",
        System.Runtime.InteropServices.Architecture.Arm64 => "arm64",
        System.Runtime.InteropServices.Architecture.Arm => "arm",
        System.Runtime.InteropServices.Architecture.X86 => "386",
        System.Runtime.InteropServices.Architecture.S390x => "s390x",
        System.Runtime.InteropServices.Architecture.Ppc64le => "ppc64le",
        _ => throw new PlatformNotSupportedException($"no OCI architecture name for {architecture}"),
    };
}
