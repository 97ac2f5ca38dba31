namespace Crisp.E2E.Fixtures;

/// <summary>Names of the catalogue images (<see cref="TestImages"/>); also the last part of their registry repository.</summary>
public static class TestImageNames
{
    public const string Busybox = "busybox";
    public const string Multilayer = "multilayer";
    public const string UserUid = "user-uid";
    public const string UserName = "user-name";
    public const string UserUidGid = "user-uidgid";
    public const string EnvWorkdir = "env-workdir";
    public const string EntrypointCmd = "entrypoint-cmd";
    public const string LabelsStopSignal = "labels-stopsignal";
    public const string Multiplatform = "multiplatform";
    public const string Zstd = "zstd";
    public const string Uncompressed = "uncompressed";
    public const string Whiteouts = "whiteouts";
    public const string Large = "large";
    public const string HostileDotDot = "hostile-dotdot";
    public const string HostileAbsolute = "hostile-absolute";
    public const string HostileSymlinkEscape = "hostile-symlink-escape";
    public const string HostileHardlinkEscape = "hostile-hardlink-escape";

    /// <summary>Small, well-formed images every registry fixture holds.</summary>
    public static readonly IReadOnlyList<string> Standard =
    [
        Busybox, Multilayer, UserUid, UserName, UserUidGid, EnvWorkdir, EntrypointCmd, LabelsStopSignal,
        Multiplatform, Zstd, Uncompressed, Whiteouts,
    ];

    /// <summary>Images whose layers try to write or link outside the rootfs.</summary>
    public static readonly IReadOnlyList<string> Hostile = [HostileDotDot, HostileAbsolute, HostileSymlinkEscape, HostileHardlinkEscape];

    public static readonly IReadOnlyList<string> All = [.. Standard, Large, .. Hostile];

    /// <summary>Registry repository the catalogue uses for an image: "crisp-test/NAME".</summary>
    public static string Repository(string name) => "crisp-test/" + name;
}
