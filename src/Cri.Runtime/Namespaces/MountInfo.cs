namespace Crisp.Runtime.Namespaces;

/// <summary>Mount points of this process's mount namespace (octal escapes decoded).</summary>
public static class MountInfo
{
    public static HashSet<string> MountPoints(string mountInfoPath = "/proc/self/mountinfo")
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(mountInfoPath))
        {
            var fields = line.Split(' ');
            if (fields.Length > 4) result.Add(Unescape(fields[4]));
        }
        return result;
    }

    public static bool IsMountPoint(string path) => MountPoints().Contains(Path.GetFullPath(path).TrimEnd('/') is { Length: > 0 } p ? p : "/");

    /// <summary>Mount points at or below <paramref name="dir"/>.</summary>
    public static IEnumerable<string> MountsUnder(string dir)
    {
        var prefix = Path.GetFullPath(dir).TrimEnd('/') + "/";
        return MountPoints().Where(m => m.StartsWith(prefix, StringComparison.Ordinal) || m + "/" == prefix);
    }

    private static string Unescape(string s)
    {
        if (!s.Contains('\\')) return s;
        var sb = new System.Text.StringBuilder(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && i + 3 < s.Length && char.IsAsciiDigit(s[i + 1]))
            {
                sb.Append((char)Convert.ToInt32(s.Substring(i + 1, 3), 8));
                i += 3;
            }
            else sb.Append(s[i]);
        }
        return sb.ToString();
    }
}
