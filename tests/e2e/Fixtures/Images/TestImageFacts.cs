namespace Crisp.E2E.Fixtures;

/// <summary>What each catalogue image contains, so tests assert against the same constants the builder used.</summary>
public static class TestImageFacts
{
    public static class Busybox
    {
        public static readonly IReadOnlyList<string> Cmd = ["sh"];
    }

    /// <summary>Base layer + three small gzip layers; layer 3 overwrites a file of layer 2.</summary>
    public static class Multilayer
    {
        public const int LayerCount = 4;
        public const string LayerTwoFile = "/layers/two.txt";
        public const string LayerTwoContent = "two\n";
        public const string LayerThreeFile = "/layers/three.txt";
        public const string LayerThreeContent = "three\n";
        public const string LayerFourFile = "/layers/four.txt";
        public const string LayerFourContent = "four\n";

        /// <summary>Written by layer 2 as "from layer 2", overwritten by layer 3.</summary>
        public const string OverriddenFile = "/layers/override.txt";
        public const string OverriddenContent = "from layer 3\n";
    }

    public static class User
    {
        public const string UidImageUser = "1000";
        public const string NameImageUser = "app";
        public const string UidGidImageUser = "1000:2000";

        /// <summary>Both parts by name: resolves to uid 1000, gid 2000 through /etc/passwd and /etc/group.</summary>
        public const string NameGroupImageUser = "app:extra";

        /// <summary>Not in /etc/passwd: creating a container from this image must fail with a clear error.</summary>
        public const string UnknownImageUser = "nosuchuser";
        public static readonly IReadOnlyList<string> Cmd = ["id"];
    }

    public static class EnvWorkdir
    {
        public const string Path = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/opt/crisp/bin";
        public const string Foo = "FOO=bar";
        public const string WithSpaces = "GREETING=hello world";
        public static readonly IReadOnlyList<string> Env = [Path, Foo, WithSpaces];
        public const string WorkingDir = "/work";
        public const string MarkerFile = "/work/marker.txt";
        public const string MarkerContent = "workdir marker\n";
        public static readonly IReadOnlyList<string> Cmd = ["sh", "-c", "pwd; env"];
    }

    public static class EntrypointCmd
    {
        public static readonly IReadOnlyList<string> Entrypoint = ["/bin/echo", "entry"];
        public static readonly IReadOnlyList<string> Cmd = ["cmd"];

        /// <summary>What the container prints when run without overrides.</summary>
        public const string DefaultOutput = "entry cmd\n";
    }

    public static class LabelsStopSignal
    {
        public const string StopSignal = "SIGUSR1";
        public static readonly IReadOnlyDictionary<string, string> Labels = new Dictionary<string, string>
        {
            ["io.crisp.test.label"] = "hello",
            ["io.crisp.test.other"] = "world with spaces",
            ["org.opencontainers.image.title"] = "crisp-labels",
        };

        /// <summary>Prints "got USR1" and exits 0 on SIGUSR1, so a graceful stop is observable.</summary>
        public static readonly IReadOnlyList<string> Cmd = ["sh", "-c", "trap 'echo got USR1; exit 0' USR1; echo ready; while true; do sleep 1; done"];
    }

    /// <summary>Index: host platform = busybox + /etc/platform; the foreign platform = one tiny non-runnable layer.</summary>
    public static class Multiplatform
    {
        public const string PlatformFile = "/etc/platform";
        public static string HostContent => OciPlatform.Host.ToString() + "\n";
        public const string ForeignFile = "/foreign.txt";
        public static string ForeignContent => OciPlatform.Foreign.ToString() + "\n";
    }

    /// <summary>Base layer and a marker layer, both zstd (the base has busybox's diff id but a different blob digest).</summary>
    public static class Zstd
    {
        public const string MarkerFile = "/zstd.txt";
        public const string MarkerContent = "compressed with zstd\n";
    }

    /// <summary>Base layer and a marker layer, both plain tar (media type ...layer.v1.tar, digest = diff id).</summary>
    public static class Uncompressed
    {
        public const string MarkerFile = "/uncompressed.txt";
        public const string MarkerContent = "not compressed\n";
    }

    /// <summary>Layer 2 adds files; layer 3 deletes some with ".wh." entries and makes /opaque opaque.</summary>
    public static class Whiteouts
    {
        public const int LayerCount = 3;
        public const string KeptFile = "/data/keep.txt";
        public const string KeptContent = "kept\n";
        public const string DeletedFile = "/data/gone.txt";
        public const string DeletedDirectory = "/data/gonedir";
        public const string OpaqueDirectory = "/opaque";
        public static readonly IReadOnlyList<string> HiddenByOpaque = ["/opaque/old.txt", "/opaque/sub/old2.txt"];
        public const string AddedAfterOpaque = "/opaque/new.txt";
        public const string AddedAfterOpaqueContent = "new\n";
    }

    /// <summary>Legitimate links inside the rootfs; layer 3 writes a file through the directory symlink /srv -> /data.</summary>
    public static class Symlinks
    {
        public const string Target = "/data/target.txt";
        public const string TargetContent = "symlink target\n";

        /// <summary>-> "/data/target.txt": absolute, so it must resolve inside the rootfs, not on the host.</summary>
        public const string AbsoluteLink = "/data/abs-link";
        public const string AbsoluteLinkTarget = "/data/target.txt";

        /// <summary>-> "target.txt".</summary>
        public const string RelativeLink = "/data/rel-link";
        public const string RelativeLinkTarget = "target.txt";

        /// <summary>-> "/data": a directory symlink.</summary>
        public const string DirectoryLink = "/srv";
        public const string DirectoryLinkTarget = "/data";

        /// <summary>Layer 3 entry "srv/through.txt": lands in /data because /srv is a link to it.</summary>
        public const string WrittenThroughLink = "/data/through.txt";
        public const string WrittenThroughLinkContent = "written through /srv\n";

        /// <summary>-> "/proc/self/mounts": dangling until /proc is mounted, like /etc/mtab in real images.</summary>
        public const string DanglingLink = "/etc/mtab";
        public const string DanglingLinkTarget = "/proc/self/mounts";
    }

    /// <summary>Devices, fifos, special mode bits and ownership an unpacker must reproduce.</summary>
    public static class SpecialFiles
    {
        public const string CharacterDevice = "/dev/crisp-null";
        public const int CharacterDeviceMajor = 1;
        public const int CharacterDeviceMinor = 3;
        public const string Fifo = "/data/fifo";

        /// <summary>Mode 04755.</summary>
        public const string SetuidFile = "/data/setuid";
        public const UnixFileMode SetuidMode = UnixFileMode.SetUser | (UnixFileMode)0b111_101_101;

        /// <summary>Owned 1000:2000, mode 0640.</summary>
        public const string OwnedFile = "/data/owned";
        public const int OwnedUid = 1000;
        public const int OwnedGid = 2000;
        public const UnixFileMode OwnedMode = (UnixFileMode)0b110_100_000;

        /// <summary>Owned 1000:1000, mode 0700.</summary>
        public const string PrivateDirectory = "/data/private";
        public const UnixFileMode PrivateMode = (UnixFileMode)0b111_000_000;

        /// <summary>Mode 01777.</summary>
        public const string StickyDirectory = "/data/sticky";
        public const UnixFileMode StickyMode = UnixFileMode.StickyBit | (UnixFileMode)0b111_111_111;
    }

    /// <summary>For benchmarks: base + 5 layers of 10 MiB deterministic random (incompressible) data.</summary>
    public static class Large
    {
        public const int DataLayerCount = 5;
        public const int BytesPerLayer = 10 * 1024 * 1024;
        public static string DataFile(int layer) => $"/large/blob{layer}.bin";
    }
}
