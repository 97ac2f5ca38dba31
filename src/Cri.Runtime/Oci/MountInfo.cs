namespace Crisp.Runtime.Oci;

/// <summary>Reads the propagation of the mount that contains a path from /proc/self/mountinfo.</summary>
internal static class MountInfo
{
    public static HostMountPropagation PropagationOf(string path) =>
        PropagationOf(path, File.ReadAllLines("/proc/self/mountinfo"));

    internal static HostMountPropagation PropagationOf(string path, IEnumerable<string> mountinfoLines)
    {
        string? bestMountPoint = null;
        var best = HostMountPropagation.Private;
        foreach (var line in mountinfoLines)
        {
            // id parent major:minor root mountpoint options [optional fields...] - fstype source superoptions
            var fields = line.Split(' ');
            if (fields.Length < 7) continue;
            var mountPoint = Unescape(fields[4]);
            if (!Contains(mountPoint, path)) continue;
            // Later lines are mounted on top of earlier ones at the same point, so >= keeps the topmost.
            if (bestMountPoint is not null && mountPoint.Length < bestMountPoint.Length) continue;

            var propagation = HostMountPropagation.Private;
            for (var i = 6; i < fields.Length && fields[i] != "-"; i++)
            {
                if (fields[i].StartsWith("shared:", StringComparison.Ordinal)) { propagation = HostMountPropagation.Shared; break; }
                if (fields[i].StartsWith("master:", StringComparison.Ordinal)) propagation = HostMountPropagation.Slave;
            }
            bestMountPoint = mountPoint;
            best = propagation;
        }
        return best;
    }

    private static bool Contains(string mountPoint, string path) =>
        mountPoint == "/" || path == mountPoint || path.StartsWith(mountPoint + "/", StringComparison.Ordinal);

    // mountinfo escapes space, tab, newline and backslash as \ooo octal.
    private static string Unescape(string field)
    {
        if (!field.Contains('\\')) return field;
        var chars = new System.Text.StringBuilder(field.Length);
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length
                && field.Substring(i + 1, 3).All(c => c is >= '0' and <= '7'))
            {
                chars.Append((char)Convert.ToInt32(field.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                chars.Append(field[i]);
            }
        }
        return chars.ToString();
    }
}
