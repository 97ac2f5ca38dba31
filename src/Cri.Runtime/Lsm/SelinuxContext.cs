using System.Text.RegularExpressions;

namespace Crisp.Runtime.Lsm;

/// <summary>An SELinux security context user:role:type:level; the level (MLS/MCS) may itself hold colons.</summary>
public sealed partial record SelinuxContext(string User, string Role, string Type, string Level)
{
    public static SelinuxContext? TryParse(string? text)
    {
        var parts = (text ?? "").Split(':', 4);
        return parts.Length == 4 && parts.All(p => p.Length > 0) ? new SelinuxContext(parts[0], parts[1], parts[2], parts[3]) : null;
    }

    public override string ToString() => $"{User}:{Role}:{Type}:{Level}";

    /// <summary>An MLS range as policies write them: s0, s0-s0:c0.c1023, s0:c1,c2 (what containerd accepts too).</summary>
    public static bool IsValidLevel(string level) => LevelPattern().IsMatch(level);

    /// <summary>A user, role or type identifier as policies spell them (system_u, object_r, container_t).</summary>
    public static bool IsValidName(string name) => NamePattern().IsMatch(name);

    [GeneratedRegex(@"^[A-Za-z0-9_.\-]+$")]
    private static partial Regex NamePattern();

    [GeneratedRegex(@"^s\d+(-s\d+)?(:c\d+(\.c\d+)?(,c\d+(\.c\d+)?)*)?$")]
    private static partial Regex LevelPattern();
}
