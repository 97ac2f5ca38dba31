namespace Crisp.Runtime.Lsm;

/// <summary>The text formats AppArmor reports profiles in.</summary>
internal static class LoadedProfileList
{
    /// <summary>securityfs' profiles file: one "&lt;name&gt; (&lt;mode&gt;)" per line; names may contain spaces.</summary>
    public static bool Contains(string profilesFile, string profile) =>
        profilesFile.Split('\n').Any(line => line.StartsWith(profile + " (", StringComparison.Ordinal));

    /// <summary>/proc/self/attr/current: "&lt;name&gt; (&lt;mode&gt;)" or just "unconfined"; absent means unconfined.</summary>
    public static string CurrentLabel(string? attrCurrent)
    {
        var text = (attrCurrent ?? "").Trim().TrimEnd('\0');
        var mode = text.IndexOf(" (", StringComparison.Ordinal);
        var name = mode < 0 ? text : text[..mode];
        return name.Length == 0 ? "unconfined" : name;
    }
}
