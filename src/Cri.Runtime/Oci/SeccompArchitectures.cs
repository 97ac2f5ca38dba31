namespace Crisp.Runtime.Oci;

/// <summary>Maps Go/.NET/uname architecture names onto libseccomp's SCMP_ARCH_* names.</summary>
internal static class SeccompArchitectures
{
    /// <summary>"amd64", "x86_64" and "x64" are the same thing; unknown names pass through lower-cased.</summary>
    public static string NormalizeGoArch(string architecture) => architecture.Trim().ToLowerInvariant() switch
    {
        "amd64" or "x86_64" or "x64" => "amd64",
        "arm64" or "aarch64" => "arm64",
        "386" or "x86" or "i386" or "i686" => "386",
        "arm" or "armv7l" or "armhf" => "arm",
        "ppc64le" => "ppc64le",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        var other => other,
    };

    /// <summary>The native architecture first, then the compat ABIs its kernel also runs.</summary>
    public static List<string> ForGoArch(string architecture) => NormalizeGoArch(architecture) switch
    {
        "amd64" => ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "arm64" => ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"],
        "386" => ["SCMP_ARCH_X86"],
        "arm" => ["SCMP_ARCH_ARM"],
        "ppc64le" => ["SCMP_ARCH_PPC64LE"],
        "s390x" => ["SCMP_ARCH_S390X", "SCMP_ARCH_S390"],
        "riscv64" => ["SCMP_ARCH_RISCV64"],
        _ => [],
    };

    public static string Native => NormalizeGoArch(System.Runtime.InteropServices.RuntimeInformation.OSArchitecture.ToString());
}
