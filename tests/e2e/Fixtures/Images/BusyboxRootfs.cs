namespace Crisp.E2E.Fixtures;

/// <summary>
/// A minimal runnable rootfs from the host's busybox-static: /bin/busybox with every applet as a hard link
/// (a bind mount over a symlinked applet would land on /bin/busybox), plus users, groups and the usual dirs.
/// Note Debian's busybox-static runs applets in-process from <c>sh</c> (FEATURE_SH_STANDALONE) instead of
/// searching PATH, so exec the absolute applet path when a test depends on which file is run.
/// </summary>
public static class BusyboxRootfs
{
    public const string BusyboxPath = "/bin/busybox";

    /// <summary>The image user with a home and a supplementary group.</summary>
    public const int AppUid = 1000;
    public const int AppGid = 1000;
    public const string AppUser = "app";

    /// <summary>Supplementary group of <see cref="AppUser"/>.</summary>
    public const int ExtraGid = 2000;
    public const string ExtraGroup = "extra";

    /// <summary>A second unprivileged user without supplementary groups.</summary>
    public const int OtherUid = 1001;
    public const string OtherUser = "other";

    public const int NobodyUid = 65534;

    public const string Passwd = """
        root:x:0:0:root:/root:/bin/sh
        daemon:x:1:1:daemon:/usr/sbin:/bin/false
        app:x:1000:1000:app:/home/app:/bin/sh
        other:x:1001:1001:other:/home/other:/bin/sh
        nobody:x:65534:65534:nobody:/nonexistent:/bin/false

        """;

    public const string Group = """
        root:x:0:
        daemon:x:1:
        app:x:1000:
        other:x:1001:
        extra:x:2000:app
        wheel:x:10:root,app
        nogroup:x:65534:

        """;

    /// <summary>Applets the e2e tests rely on; building fails loudly if the host busybox lacks one.</summary>
    public static readonly IReadOnlyList<string> RequiredApplets =
    [
        "sh", "ls", "cat", "echo", "sleep", "id", "env", "pwd", "true", "false", "wget", "nc", "httpd", "ps",
        "mount", "hostname", "grep", "head", "tail", "dd", "touch", "mkdir", "rm", "seq", "yes", "kill", "stat",
        "test", "wc", "ln", "ip", "ping", "nslookup", "readlink", "sha256sum", "timeout", "find", "sed", "tee",
        "mkfifo", "nproc", "free", "whoami", "groups", "nsenter", "unshare", "dmesg", "usleep",
    ];

    private static readonly Lazy<byte[]> BusyboxBytes = new(() => File.ReadAllBytes(BusyboxPath));

    /// <summary>Applet names linked into /bin (the host busybox's --list, or the essential set).</summary>
    public static IReadOnlyList<string> Applets { get; } = ReadApplets();

    public static LayerBuilder AddTo(LayerBuilder layer)
    {
        layer.AddDirectory("bin")
            .AddFile("bin/busybox", BusyboxBytes.Value, LayerBuilder.ExecutableMode);
        foreach (var applet in Applets)
        {
            layer.AddHardLink("bin/" + applet, "bin/busybox");
        }

        layer.AddDirectory("dev")
            .AddDirectory("etc")
            .AddFile("etc/passwd", Passwd)
            .AddFile("etc/group", Group)
            .AddFile("etc/os-release", "NAME=\"crisp test busybox\"\nID=crisp-busybox\n")
            .AddDirectory("home")
            .AddDirectory("home/app", LayerBuilder.DirectoryMode, AppUid, AppGid)
            .AddDirectory("home/other", LayerBuilder.DirectoryMode, OtherUid, 1001)
            .AddDirectory("proc")
            .AddDirectory("root", (UnixFileMode)0b111_000_000)
            .AddDirectory("sys")
            .AddDirectory("tmp", (UnixFileMode)0b111_111_111 | UnixFileMode.StickyBit)
            .AddDirectory("usr")
            .AddDirectory("usr/bin")
            .AddDirectory("var")
            .AddDirectory("var/log")
            .AddDirectory("var/tmp", (UnixFileMode)0b111_111_111 | UnixFileMode.StickyBit);
        return layer;
    }

    private static string[] ReadApplets()
    {
        // `busybox --list` is static data inside the binary; reading it synchronously once per process is cheap.
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(BusyboxPath, "--list")
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException($"could not run {BusyboxPath} --list (is busybox-static installed?)");
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var applets = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(a => a != "busybox" && !a.Contains('/'))
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToArray();
        var missing = RequiredApplets.Except(applets, StringComparer.Ordinal).ToArray();
        if (missing.Length > 0)
        {
            throw new InvalidOperationException($"{BusyboxPath} lacks applets the test images need: {string.Join(", ", missing)}");
        }

        return applets;
    }
}
