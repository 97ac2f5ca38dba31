using System.Text.Json;
using Crisp.Runtime.Cgroups;
using Crisp.Runtime.Host;

namespace Crisp.Runtime.Handlers;

/// <summary>
/// What `runc delete` does for a container whose init is gone (runc 1.1 libcontainer `destroy`: rmdir of the
/// container's cgroups, removal of its state directory, poststop hooks), done in-process when runc's own state file
/// proves there is nothing else to do: one runc process per container was most of the cost of removing a pod of many
/// containers. Anything this does not handle exactly like runc is left to runc itself: a state file it does not
/// recognise (another runtime, another runc format), a live or unverifiable init, processes left in the cgroups
/// (runc kills them), child cgroups, hooks, Intel RDT, a cgroup outside the cgroup filesystem, or the systemd cgroup
/// driver (runc also stops the systemd unit), which the caller excludes.
/// </summary>
internal static class RuncStoppedContainer
{
    public const string CgroupFilesystem = "/sys/fs/cgroup/";
    /// <summary>runc's state.json is a few KiB; a larger file is not read.</summary>
    private const long MaxStateFileBytes = 1024 * 1024;

    /// <returns>True when the container's runtime state is gone (deleted here, or there was none); false when runc must delete it.</returns>
    /// <param name="cgroupFilesystem">Where every cgroup of the container must lie (tests point it at a plain directory).</param>
    public static async Task<bool> TryDeleteAsync(string root, string containerId, CancellationToken ct, string cgroupFilesystem = CgroupFilesystem)
    {
        var directory = Path.Combine(root, containerId);
        if (!Directory.Exists(directory)) return true;
        var stateFile = new FileInfo(Path.Combine(directory, "state.json"));
        if (!stateFile.Exists || stateFile.Length > MaxStateFileBytes) return false;
        var cgroups = await StoppedCgroupsAsync(stateFile.FullName, cgroupFilesystem, ct).ConfigureAwait(false);
        if (cgroups is null) return false;
        foreach (var cgroup in cgroups)
        {
            if (!Directory.Exists(cgroup)) continue;
            if (Directory.EnumerateDirectories(cgroup).Any()) return false;
            var procs = await CgroupFiles.ReadAsync(cgroup, "cgroup.procs", ct).ConfigureAwait(false);
            if (!string.IsNullOrWhiteSpace(procs)) return false;
        }
        foreach (var cgroup in cgroups) await CgroupFiles.RemoveTreeAsync(cgroup, ct).ConfigureAwait(false);
        Directory.Delete(directory, recursive: true);
        return true;
    }

    /// <summary>The container's cgroup directories when the state file shows a runc container with nothing but them to undo; else null.</summary>
    private static async Task<IReadOnlyList<string>?> StoppedCgroupsAsync(string stateFile, string cgroupFilesystem, CancellationToken ct)
    {
        JsonDocument document;
        try
        {
            await using var stream = File.OpenRead(stateFile);
            document = await JsonDocument.ParseAsync(stream, cancellationToken: ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            return null;
        }
        using (document)
        {
            var state = document.RootElement;
            if (state.ValueKind != JsonValueKind.Object
                || !state.TryGetProperty("init_process_pid", out var pid) || !pid.TryGetInt32(out var initPid)
                || !state.TryGetProperty("init_process_start", out var start) || !start.TryGetUInt64(out var initStart)
                || !state.TryGetProperty("cgroup_paths", out var paths) || paths.ValueKind != JsonValueKind.Object
                || !state.TryGetProperty("config", out var config) || config.ValueKind != JsonValueKind.Object)
                return null;
            if (state.TryGetProperty("intel_rdt_path", out var rdt) && rdt.ValueKind == JsonValueKind.String && rdt.GetString() is { Length: > 0 })
                return null;
            if (HasHooks(config)) return null;
            // runc's own test for a stopped container: its init is gone, or the pid names another process now.
            if (initPid > 0 && new ProcessIdentity(initPid, initStart).IsAlive()) return null;
            var cgroups = new List<string>();
            foreach (var path in paths.EnumerateObject())
            {
                if (path.Value.ValueKind != JsonValueKind.String || path.Value.GetString() is not { } dir) return null;
                var full = Path.GetFullPath(dir);
                if (full != dir || !full.StartsWith(cgroupFilesystem, StringComparison.Ordinal)) return null;
                cgroups.Add(full);
            }
            return cgroups;
        }
    }

    private static bool HasHooks(JsonElement config)
    {
        if (!config.TryGetProperty("Hooks", out var hooks) || hooks.ValueKind == JsonValueKind.Null) return false;
        if (hooks.ValueKind != JsonValueKind.Object) return true;
        return hooks.EnumerateObject().Any(h => h.Value.ValueKind != JsonValueKind.Null && (h.Value.ValueKind != JsonValueKind.Array || h.Value.GetArrayLength() > 0));
    }
}
