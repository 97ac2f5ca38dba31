using System.Globalization;
using System.Text.Json;
using Crisp.Runtime.Api;

namespace Crisp.Runtime.Oci;

/// <summary>
/// Loads a Localhost seccomp profile. Accepts the OCI form and the Docker/containerd form (archMap,
/// per-rule includes/excludes by arch, capability and minimum kernel), evaluated for this container.
/// </summary>
public static class LocalhostSeccompProfile
{
    public static OciSeccomp Load(string path, string field, string architecture, IReadOnlyCollection<string> capabilities)
    {
        if (string.IsNullOrEmpty(path) || !Path.IsPathRooted(path))
            throw RuntimeException.InvalidField(field, $"localhost seccomp profile path \"{path}\" must be absolute");
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw RuntimeException.InvalidField(field, $"cannot read seccomp profile {path}: {e.Message}");
        }

        try
        {
            return Parse(text, architecture, capabilities);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or OverflowException)
        {
            throw RuntimeException.InvalidField(field, $"seccomp profile {path} is not valid: {e.Message}");
        }
    }

    public static OciSeccomp Parse(string json, string architecture, IReadOnlyCollection<string> capabilities)
    {
        using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new FormatException("the profile is not a JSON object");

        var goArch = SeccompArchitectures.NormalizeGoArch(architecture);
        var profile = new OciSeccomp
        {
            DefaultAction = String(root, "defaultAction") ?? throw new FormatException("defaultAction is missing"),
            DefaultErrnoRet = UInt(root, "defaultErrnoRet"),
            Flags = Strings(root, "flags"),
            ListenerPath = NullIfEmpty(String(root, "listenerPath")),
            ListenerMetadata = NullIfEmpty(String(root, "listenerMetadata")),
        };

        var architectures = Strings(root, "architectures");
        if ((architectures is null || architectures.Count == 0) && root.TryGetProperty("archMap", out var archMap) && archMap.ValueKind == JsonValueKind.Array)
        {
            // Only the native ABI and its compat ABIs apply on this node.
            var native = SeccompArchitectures.ForGoArch(goArch).FirstOrDefault();
            architectures = [];
            foreach (var entry in archMap.EnumerateArray())
            {
                if (native is null || String(entry, "architecture") != native) continue;
                architectures.Add(native);
                architectures.AddRange(Strings(entry, "subArchitectures") ?? []);
            }
        }
        profile.Architectures = architectures is { Count: > 0 } ? architectures : null;

        if (root.TryGetProperty("syscalls", out var syscalls) && syscalls.ValueKind == JsonValueKind.Array)
        {
            profile.Syscalls = [];
            foreach (var rule in syscalls.EnumerateArray())
            {
                if (!Applies(rule, goArch, capabilities)) continue;
                var names = Strings(rule, "names") ?? [];
                if (String(rule, "name") is { Length: > 0 } single) names.Insert(0, single);
                if (names.Count == 0) continue;
                profile.Syscalls.Add(new OciSyscall
                {
                    Names = names,
                    Action = String(rule, "action") ?? throw new FormatException($"syscall rule for {names[0]} has no action"),
                    ErrnoRet = UInt(rule, "errnoRet"),
                    Args = Args(rule),
                });
            }
        }
        return profile;
    }

    private static bool Applies(JsonElement rule, string goArch, IReadOnlyCollection<string> capabilities)
    {
        if (rule.TryGetProperty("includes", out var includes) && includes.ValueKind == JsonValueKind.Object)
        {
            if (Strings(includes, "arches") is { Count: > 0 } arches && !arches.Contains(goArch)) return false;
            if (Strings(includes, "caps") is { Count: > 0 } caps && !caps.Any(c => capabilities.Contains(c))) return false;
            if (String(includes, "minKernel") is { Length: > 0 } minKernel && !KernelAtLeast(minKernel)) return false;
        }
        if (rule.TryGetProperty("excludes", out var excludes) && excludes.ValueKind == JsonValueKind.Object)
        {
            if (Strings(excludes, "arches") is { } arches && arches.Contains(goArch)) return false;
            if (Strings(excludes, "caps") is { } caps && caps.Any(c => capabilities.Contains(c))) return false;
        }
        return true;
    }

    private static bool KernelAtLeast(string minimum)
    {
        var current = Environment.OSVersion.Version;
        return !Version.TryParse(minimum.Contains('.') ? minimum : minimum + ".0", out var required) || current >= required;
    }

    private static List<OciSeccompArg>? Args(JsonElement rule)
    {
        if (!rule.TryGetProperty("args", out var args) || args.ValueKind != JsonValueKind.Array) return null;
        var result = new List<OciSeccompArg>();
        foreach (var arg in args.EnumerateArray())
        {
            result.Add(new OciSeccompArg
            {
                Index = UInt(arg, "index") ?? throw new FormatException("syscall argument without index"),
                Value = ULong(arg, "value") ?? 0,
                ValueTwo = ULong(arg, "valueTwo") is { } two and not 0 ? two : null,
                Op = String(arg, "op") ?? throw new FormatException("syscall argument without op"),
            });
        }
        return result.Count > 0 ? result : null;
    }

    private static string? String(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    private static uint? UInt(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetUInt32() : null;

    private static ulong? ULong(JsonElement obj, string name)
    {
        if (!obj.TryGetProperty(name, out var v)) return null;
        return v.ValueKind switch
        {
            JsonValueKind.Number => v.GetUInt64(),
            JsonValueKind.String => ulong.Parse(v.GetString()!, CultureInfo.InvariantCulture),
            _ => null,
        };
    }

    private static List<string>? Strings(JsonElement obj, string name)
    {
        if (!obj.TryGetProperty(name, out var v) || v.ValueKind != JsonValueKind.Array) return null;
        return v.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).ToList();
    }
}
