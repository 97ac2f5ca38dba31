namespace Crisp.Runtime.Sandboxes;

/// <summary>Reads this process's mount table; used to unmount only what is mounted and never delete through a mount.</summary>
public static class MountTable
{
    public static IReadOnlyList<string> MountPoints()
    {
        var result = new List<string>();
        foreach (var line in File.ReadLines("/proc/self/mountinfo"))
        {
            // Field 5 is the mount point, with spaces etc. octal-escaped.
            var fields = line.Split(' ');
            if (fields.Length > 4) result.Add(Unescape(fields[4]));
        }
        return result;
    }

    public static bool IsMountPoint(string path)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        return MountPoints().Contains(full, StringComparer.Ordinal);
    }

    /// <summary>Mount points at or below <paramref name="directory"/>, deepest first.</summary>
    public static IReadOnlyList<string> MountsUnder(string directory)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        return MountPoints()
            .Where(m => m == full || m.StartsWith(full + "/", StringComparison.Ordinal))
            .Distinct(StringComparer.Ordinal)
            .OrderByDescending(m => m.Length)
            .ToList();
    }

    private static string Unescape(string field)
    {
        if (!field.Contains('\\')) return field;
        var sb = new System.Text.StringBuilder(field.Length);
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length)
            {
                var octal = field.Substring(i + 1, 3);
                if (octal.All(c => c is >= '0' and <= '7'))
                {
                    sb.Append((char)Convert.ToInt32(octal, 8));
                    i += 3;
                    continue;
                }
            }
            sb.Append(field[i]);
        }
        return sb.ToString();
    }
}
