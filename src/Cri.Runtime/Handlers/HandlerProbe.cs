using System.Text.Json;
using Crisp.Interop;

namespace Crisp.Runtime.Handlers;

/// <summary>
/// Decides whether a runtime can run containers here by actually running one: a throw-away bundle whose rootfs
/// borrows the host's /usr and libraries read-only and runs `true` in its own cgroup. This catches failures no
/// version check predicts, e.g. Debian's crun 1.8.1 refusing hybrid cgroup hosts. Takes a few tens of ms.
/// </summary>
internal static class HandlerProbe
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(15);
    private static readonly string[] HostTopLevel = ["usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"];

    public static async Task<HandlerAvailability> ProbeAsync(string name, string binary, bool systemdCgroup, CancellationToken ct)
    {
        var version = await TryRunAsync(binary, ["--version"], ct).ConfigureAwait(false);
        if (version is null || !version.Succeeded)
            return HandlerAvailability.NotReady($"{binary} --version failed: {version?.ErrorText ?? "timed out"}");

        var (rro, userns) = await ReadFeaturesAsync(binary, ct).ConfigureAwait(false);

        ProbeLeftovers.SweepStale(DateTime.UtcNow);
        var dir = Path.Combine(Path.GetTempPath(), $"{ProbeLeftovers.Prefix}{name}-{Guid.NewGuid():N}");
        var id = ProbeLeftovers.Prefix + Guid.NewGuid().ToString("N")[..12];
        var root = Path.Combine(dir, "state");
        try
        {
            WriteBundle(dir, id, systemdCgroup);
            var args = new List<string> { "--root", root };
            if (systemdCgroup) args.Add("--systemd-cgroup");
            args.AddRange(["run", "--bundle", dir, id]);
            var run = await TryRunAsync(binary, args, ct).ConfigureAwait(false);
            if (run is null)
                return HandlerAvailability.NotReady($"{name} did not run a probe container within {ProbeTimeout.TotalSeconds:0}s");
            if (!run.Succeeded)
                return HandlerAvailability.NotReady($"{name} cannot run containers on this host: {ConmonSyncMessage.CleanRuntimeError(run.ErrorText)}");
            // crisp pins the pod's user namespace and idmaps the rootfs and volumes itself; the runtime only has to
            // join a user namespace by path (its `features` lists "user").
            return new HandlerAvailability(true, null, rro, SupportsUserNamespaces: userns);
        }
        finally
        {
            var del = new List<string> { "--root", root };
            if (systemdCgroup) del.Add("--systemd-cgroup");
            del.AddRange(["delete", "--force", id]);
            await TryRunAsync(binary, del, CancellationToken.None).ConfigureAwait(false);
            if (!systemdCgroup) await ProbeLeftovers.RemoveCgroupAsync(id).ConfigureAwait(false);
            try { Directory.Delete(dir, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }

    private static async Task<CommandResult?> TryRunAsync(string binary, IEnumerable<string> args, CancellationToken ct)
    {
        try { return await CommandRunner.RunAsync(binary, args, ct, timeout: ProbeTimeout).ConfigureAwait(false); }
        catch (TimeoutException) { return null; }
    }

    /// <summary>`features` (runc ≥ 1.1) lists mount options and namespaces; runtimes without it get neither.</summary>
    private static async Task<(bool Rro, bool UserNs)> ReadFeaturesAsync(string binary, CancellationToken ct)
    {
        var result = await TryRunAsync(binary, ["features"], ct).ConfigureAwait(false);
        if (result is null || !result.Succeeded) return (false, false);
        try
        {
            using var doc = JsonDocument.Parse(result.Stdout);
            var root = doc.RootElement;
            var rro = root.TryGetProperty("mountOptions", out var opts) && opts.ValueKind == JsonValueKind.Array
                && opts.EnumerateArray().Any(o => o.GetString() == "rro");
            var userns = root.TryGetProperty("linux", out var linux) && linux.TryGetProperty("namespaces", out var ns)
                && ns.ValueKind == JsonValueKind.Array && ns.EnumerateArray().Any(n => n.GetString() == "user");
            return (rro, userns);
        }
        catch (JsonException) { return (false, false); }
    }

    private static void WriteBundle(string dir, string id, bool systemdCgroup)
    {
        var rootfs = Path.Combine(dir, "rootfs");
        OwnedDirectory.Ensure(dir);
        // The probe container's "/" and mount points, open as in any rootfs; its bundle dir stays closed.
        OwnedDirectory.Ensure(rootfs, FileModes.SharedDirectory);
        foreach (var sub in new[] { "proc", "dev", "tmp" }) OwnedDirectory.Ensure(Path.Combine(rootfs, sub), FileModes.SharedDirectory);

        using var stream = OwnedFile.Open(Path.Combine(dir, "config.json"), new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write }, FileModes.PrivateFile);
        using var w = new Utf8JsonWriter(stream);
        w.WriteStartObject();
        w.WriteString("ociVersion", "1.0.2");
        w.WriteStartObject("process");
        w.WriteBoolean("terminal", false);
        w.WriteStartObject("user"); w.WriteNumber("uid", 0); w.WriteNumber("gid", 0); w.WriteEndObject();
        w.WriteStartArray("args"); w.WriteStringValue("true"); w.WriteEndArray();
        w.WriteStartArray("env"); w.WriteStringValue("PATH=/usr/sbin:/usr/bin:/sbin:/bin"); w.WriteEndArray();
        w.WriteString("cwd", "/");
        w.WriteBoolean("noNewPrivileges", true);
        w.WriteEndObject();
        w.WriteStartObject("root"); w.WriteString("path", "rootfs"); w.WriteBoolean("readonly", true); w.WriteEndObject();
        w.WriteString("hostname", "probe");
        w.WriteStartArray("mounts");
        WriteMount(w, "/proc", "proc", "proc", ["nosuid", "noexec", "nodev"]);
        WriteMount(w, "/dev", "tmpfs", "tmpfs", ["nosuid", "strictatime", "mode=755", "size=65536k"]);
        foreach (var top in HostTopLevel)
        {
            var host = "/" + top;
            var info = new DirectoryInfo(host);
            if (!info.Exists) continue;
            if (info.LinkTarget is { } target)
            {
                // usr-merged hosts: recreate the symlink so /bin/true resolves through the bound /usr.
                File.CreateSymbolicLink(Path.Combine(rootfs, top), target);
                continue;
            }
            OwnedDirectory.Ensure(Path.Combine(rootfs, top), FileModes.SharedDirectory);
            WriteMount(w, host, "bind", host, ["rbind", "ro", "nosuid", "nodev"]);
        }
        w.WriteEndArray();
        w.WriteStartObject("linux");
        w.WriteString("cgroupsPath", systemdCgroup ? $"system.slice:crisp-probe:{id}" : $"/{id}");
        w.WriteStartArray("namespaces");
        foreach (var ns in new[] { "pid", "ipc", "uts", "mount" })
        {
            w.WriteStartObject(); w.WriteString("type", ns); w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteMount(Utf8JsonWriter w, string destination, string type, string source, string[] options)
    {
        w.WriteStartObject();
        w.WriteString("destination", destination);
        w.WriteString("type", type);
        w.WriteString("source", source);
        w.WriteStartArray("options");
        foreach (var o in options) w.WriteStringValue(o);
        w.WriteEndArray();
        w.WriteEndObject();
    }
}
