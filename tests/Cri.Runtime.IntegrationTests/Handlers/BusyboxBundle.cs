using System.Text.Json;
using System.Text.Json.Nodes;

namespace Crisp.Runtime.IntegrationTests.Handlers;

/// <summary>
/// A throw-away OCI bundle whose rootfs is busybox-static applets (hard links, so a bind over one applet never
/// lands on /bin/busybox). The config.json is written by hand: spec generation is tested elsewhere.
/// </summary>
internal sealed class BusyboxBundle : IDisposable
{
    private static readonly string[] Applets = ["sh", "echo", "sleep", "cat", "true", "false", "ls", "hostname", "printf", "yes", "head", "dd", "ps"];

    public string Root { get; }
    public string BundlePath => Path.Combine(Root, "bundle");
    public string RootfsPath => Path.Combine(BundlePath, "rootfs");
    public string PersistDir => Path.Combine(Root, "persist");
    public string ExitDir => Path.Combine(Root, "exits");
    public string LogPath => Path.Combine(Root, "logs", "ctr.log");
    public string RuntimeRoot => Path.Combine(Root, "runc-root");
    public string ContainerId { get; } = "crisp-test-" + Guid.NewGuid().ToString("N")[..12];
    public string CgroupsPath { get; }

    public BusyboxBundle(string[] args, Action<JsonObject>? customize = null)
    {
        Root = Path.Combine(Path.GetTempPath(), "crisp-rt-" + Guid.NewGuid().ToString("N")[..10]);
        CgroupsPath = "/" + ContainerId;
        var bin = Path.Combine(RootfsPath, "bin");
        Directory.CreateDirectory(bin);
        foreach (var d in new[] { "proc", "dev", "sys", "tmp", "etc" }) Directory.CreateDirectory(Path.Combine(RootfsPath, d));
        LinkApplets(bin);

        var config = new JsonObject
        {
            ["ociVersion"] = "1.0.2",
            ["process"] = new JsonObject
            {
                ["terminal"] = false,
                ["user"] = new JsonObject { ["uid"] = 0, ["gid"] = 0 },
                ["args"] = new JsonArray(args.Select(a => (JsonNode)JsonValue.Create(a)!).ToArray()),
                ["env"] = new JsonArray("PATH=/bin"),
                ["cwd"] = "/",
                ["noNewPrivileges"] = true,
            },
            ["root"] = new JsonObject { ["path"] = "rootfs", ["readonly"] = false },
            ["hostname"] = "busybox",
            ["mounts"] = new JsonArray(
                Mount("/proc", "proc", "proc", "nosuid", "noexec", "nodev"),
                Mount("/dev", "tmpfs", "tmpfs", "nosuid", "strictatime", "mode=755", "size=65536k"),
                Mount("/dev/pts", "devpts", "devpts", "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"),
                Mount("/sys", "sysfs", "sysfs", "nosuid", "noexec", "nodev", "ro")),
            ["linux"] = new JsonObject
            {
                ["cgroupsPath"] = CgroupsPath,
                ["namespaces"] = new JsonArray(Ns("pid"), Ns("ipc"), Ns("uts"), Ns("mount"), Ns("network")),
            },
        };
        customize?.Invoke(config);
        File.WriteAllText(Path.Combine(BundlePath, "config.json"), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    public Crisp.Runtime.Handlers.ContainerLaunch Launch(bool tty = false) =>
        new(ContainerId, BundlePath, LogPath, tty, Stdin: false, StdinOnce: false, ExitDir, PersistDir);

    public static JsonObject Ns(string type, string? path = null)
    {
        var o = new JsonObject { ["type"] = type };
        if (path is not null) o["path"] = path;
        return o;
    }

    private static JsonObject Mount(string destination, string type, string source, params string[] options) => new()
    {
        ["destination"] = destination,
        ["type"] = type,
        ["source"] = source,
        ["options"] = new JsonArray(options.Select(o => (JsonNode)JsonValue.Create(o)!).ToArray()),
    };

    private static void LinkApplets(string bin)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        foreach (var a in new[] { "-c", "for a; do ln /bin/busybox \"$0/$a\" 2>/dev/null || cp /bin/busybox \"$0/$a\"; done", bin }.Concat(Applets))
            psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi)!;
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException("could not link busybox applets into " + bin);
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
