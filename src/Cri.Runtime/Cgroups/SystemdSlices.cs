using System.Globalization;
using System.Text;
using Crisp.Runtime.Api;

namespace Crisp.Runtime.Cgroups;

/// <summary>
/// systemd's slice names and where their cgroups live. A dash in a slice name means nesting
/// ("kubepods-burstable-pod1.slice" is the child of "kubepods-burstable.slice", which is the child of
/// "kubepods.slice"), so the cgroup is /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice;
/// "-.slice" is the root slice. A literal dash inside a component is written escaped ("\x2d"), which is
/// why a name may never start or end with a dash nor hold two in a row (systemd's slice_name_is_valid).
/// </summary>
internal static class SystemdSlices
{
    public const string Suffix = ".slice";
    public const string RootSlice = "-.slice";
    /// <summary>Where runc puts a container whose cgroupsPath names no slice ("":prefix:name).</summary>
    public const string DefaultSlice = "system.slice";
    /// <summary>systemd's UNIT_NAME_MAX (256) counts the terminating NUL.</summary>
    public const int MaxUnitNameLength = 255;

    /// <summary>Why <paramref name="name"/> is not a valid slice unit name, or null when it is one.</summary>
    public static string? Invalid(string name)
    {
        if (name == RootSlice) return null;
        if (!name.EndsWith(Suffix, StringComparison.Ordinal) || name.Length == Suffix.Length)
            return "a systemd slice name ends in \".slice\" after a non-empty name";
        if (name.Length > MaxUnitNameLength)
            return $"a systemd unit name has at most {MaxUnitNameLength} characters";
        var bad = name.FirstOrDefault(c => !IsUnitNameChar(c));
        if (bad != default)
            return $"'{bad}' is not allowed in a systemd unit name (letters, digits, ':', '_', '.', '\\', '-')";
        var body = name[..^Suffix.Length];
        if (body.StartsWith('-') || body.EndsWith('-') || body.Contains("--", StringComparison.Ordinal))
            return "a dash in a slice name means nesting: it may not start or end the name or follow another dash";
        return null;
    }

    /// <summary>The slice's cgroup below the hierarchy root; invalid names are refused naming <paramref name="field"/>.</summary>
    public static string Expand(string slice, string field)
    {
        if (Invalid(slice) is { } reason)
            throw RuntimeException.InvalidField(field, $"\"{slice}\" is not a systemd slice name: {reason}");
        if (slice == RootSlice) return "/";
        var path = new StringBuilder();
        var body = slice[..^Suffix.Length];
        for (var dash = body.IndexOf('-'); ; dash = body.IndexOf('-', dash + 1))
        {
            path.Append('/').Append(dash < 0 ? body : body[..dash]).Append(Suffix);
            if (dash < 0) return path.ToString();
        }
    }

    /// <summary>
    /// One slice-name component made from arbitrary text (a pod UID from a client): dashes become underscores as
    /// the kubelet does for its pod slices, anything else systemd does not allow is escaped as \xNN (systemd-escape).
    /// </summary>
    public static string EscapeComponent(string text)
    {
        var escaped = new StringBuilder(text.Length);
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            var c = (char)b;
            if (c == '-') escaped.Append('_');
            else if (b < 0x80 && IsUnitNameChar(c) && c != '\\') escaped.Append(c);
            else escaped.Append("\\x").Append(b.ToString("x2", CultureInfo.InvariantCulture));
        }
        return escaped.ToString();
    }

    private static bool IsUnitNameChar(char c) =>
        c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or ':' or '_' or '.' or '\\' or '-';
}
