namespace Crisp.Runtime.Network;

/// <summary>
/// A plugin "type" names a binary inside the CNI bin dirs and nothing else: a path, a dot entry or a NUL would let a
/// config file (or a tampered attachment cache) run any executable on the host as root.
/// </summary>
public static class CniPluginType
{
    /// <summary>Why <paramref name="type"/> is not a bare binary name, or null when it is one.</summary>
    public static string? Problem(string type) => type switch
    {
        "" => "is empty",
        _ when type.Contains('/') => "contains '/'",
        _ when type.Contains('\0') => "contains a NUL character",
        _ when type.Contains("..", StringComparison.Ordinal) => "contains \"..\"",
        "." => "is \".\"",
        _ => null,
    };
}
