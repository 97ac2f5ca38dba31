namespace Crisp.E2E.Fixtures;

/// <summary>Names of the catalogue images (<see cref="TestImages"/>); also the last part of their registry repository.</summary>
public static class TestImageNames
{
    public const string Busybox = "busybox";
    public const string Multilayer = "multilayer";
    public const string UserUid = "user-uid";
    public const string UserName = "user-name";
    public const string UserUidGid = "user-uidgid";
    public const string UserNameGroup = "user-namegroup";
    public const string UserUnknown = "user-unknown";
    public const string EnvWorkdir = "env-workdir";
    public const string EntrypointCmd = "entrypoint-cmd";
    public const string LabelsStopSignal = "labels-stopsignal";
    public const string Multiplatform = "multiplatform";
    public const string Zstd = "zstd";
    public const string Uncompressed = "uncompressed";
    public const string Whiteouts = "whiteouts";
    public const string Symlinks = "symlinks";
    public const string SpecialFiles = "special-files";
    public const string Large = "large";
    public const string HostileDotDot = "hostile-dotdot";
    public const string HostileAbsolute = "hostile-absolute";
    public const string HostileSymlinkEscape = "hostile-symlink-escape";
    public const string HostileHardlinkEscape = "hostile-hardlink-escape";

    /// <summary><see cref="Busybox"/> pushed as a Docker schema 2 manifest.</summary>
    public const string DockerBusybox = "docker-busybox";

    /// <summary><see cref="Multiplatform"/> pushed as a Docker manifest list.</summary>
    public const string DockerMultiplatform = "docker-multiplatform";

    /// <summary>Small, well-formed images every registry fixture holds.</summary>
    public static readonly IReadOnlyList<string> Standard =
    [
        Busybox, Multilayer, UserUid, UserName, UserUidGid, UserNameGroup, UserUnknown, EnvWorkdir, EntrypointCmd,
        LabelsStopSignal, Multiplatform, Zstd, Uncompressed, Whiteouts, Symlinks, SpecialFiles,
    ];

    /// <summary>Images whose layers try to write or link outside the rootfs.</summary>
    public static readonly IReadOnlyList<string> Hostile = [HostileDotDot, HostileAbsolute, HostileSymlinkEscape, HostileHardlinkEscape];

    public static readonly IReadOnlyList<string> All = [.. Standard, Large, .. Hostile];

    /// <summary>Registry-only names: a catalogue image converted to Docker schema 2 when pushed (name -> source image).</summary>
    public static readonly IReadOnlyDictionary<string, string> DockerSchema2 = new Dictionary<string, string>
    {
        [DockerBusybox] = Busybox,
        [DockerMultiplatform] = Multiplatform,
    };

    /// <summary>Everything <see cref="RegistryWithImages"/> pushes up front.</summary>
    public static readonly IReadOnlyList<string> InSharedRegistry = [.. Standard, .. DockerSchema2.Keys];

    /// <summary>Registry repository the catalogue uses for an image: "crisp-test/NAME".</summary>
    public static string Repository(string name) => "crisp-test/" + name;
}
